"""Everything the assistant says that is not knowledge-base content, in Vietnamese and English."""

from __future__ import annotations

from collections.abc import Iterable

from knowledge_base.topics import TOPICS

_TEXTS: dict[str, dict[str, str]] = {
    "welcome": {
        "vi": "Xin chào! Tôi là trợ lý **Bình dân học vụ số**. Tôi hướng dẫn bạn từng bước dùng ứng dụng VNeID, "
        "dịch vụ công trực tuyến, thanh toán số, cách phòng tránh lừa đảo trên mạng và các kỹ năng dùng điện thoại.\n"
        'Bạn cứ gõ câu hỏi, có dấu hay không dấu đều được. Ví dụ: "cách đăng ký VNeID mức 2".',
        "en": "Hello! I am the **Digital Literacy for All** assistant. I guide you step by step through the VNeID app, "
        "online public services, digital payments, staying safe from online scams and basic smartphone skills.\n"
        'Just type your question. For example: "how do I register for VNeID level 2".',
    },
    "help": {
        "vi": "Tôi có thể giúp bạn về:\n{topics}\n"
        "Hãy gõ câu hỏi của bạn, có dấu hay không dấu đều được. Với các thủ tục dài, bấm **Làm từng bước** để tôi "
        "hướng dẫn từng bước một.\n\nCác lệnh:\n{commands}",
        "en": "I can help you with:\n{topics}\n"
        "Type your question. For long procedures, press **Step by step** and I will guide you one step at a time."
        "\n\nCommands:\n{commands}",
    },
    "help_volunteer": {"vi": "Lệnh dành cho tình nguyện viên:\n{commands}", "en": "Volunteers' commands:\n{commands}"},
    "help_admin": {"vi": "Lệnh dành cho quản trị viên:\n{commands}", "en": "Administrators' commands:\n{commands}"},
    "greet": {"vi": "Xin chào! Bạn cần tôi giúp gì hôm nay?", "en": "Hello! What can I help you with today?"},
    "goodbye": {
        "vi": "Chào bạn, hẹn gặp lại! Khi cần, bạn cứ nhắn cho tôi nhé.",
        "en": "Goodbye! Message me whenever you need help.",
    },
    # Emergencies: only the national numbers, which are the same everywhere in Viet Nam (113 police, 114 fire
    # and rescue, 115 ambulance). Never another number or a link.
    "emergency_medical": {
        "vi": "🚑 Nếu đây là trường hợp khẩn cấp (đau ngực, khó thở, ngất, chảy máu nhiều...), hãy gọi ngay **115** "
        "(cấp cứu) hoặc nhờ người bên cạnh đưa đến cơ sở y tế gần nhất.\n"
        "Tôi chỉ là trợ lý hướng dẫn kỹ năng số, không tư vấn được về sức khỏe.",
        "en": "🚑 If this is an emergency (chest pain, difficulty breathing, fainting, heavy bleeding...), call **115** "
        "(ambulance) now, or ask someone nearby to take you to the nearest clinic or hospital.\n"
        "I am only a digital-skills assistant and cannot give medical advice.",
    },
    "emergency_fire": {
        "vi": "🔥 Nếu có cháy, hãy ra ngay chỗ an toàn và gọi **114** (cứu hỏa, cứu nạn). Báo cho người xung quanh biết.",
        "en": "🔥 If there is a fire, get to a safe place at once and call **114** (fire and rescue). Warn the people "
        "around you.",
    },
    "emergency_police": {
        "vi": "🚓 Nếu bạn đang gặp nguy hiểm, hoặc vừa bị cướp, trộm, hành hung, đe dọa, hãy gọi ngay **113** (công an) "
        "hoặc đến công an xã, phường gần nhất. Giữ an toàn cho mình trước đã.",
        "en": "🚓 If you are in danger, or have just been robbed, burgled, attacked or threatened, call **113** "
        "(police) now or go to the nearest commune or ward police station. Keep yourself safe first.",
    },
    "decline_politics": {
        "vi": "Tôi chỉ hướng dẫn kỹ năng số nên xin phép không bàn về chính trị. Tôi có thể giúp bạn về ứng dụng VNeID, "
        "dịch vụ công trực tuyến, thanh toán số, an toàn trên mạng và cách dùng điện thoại.",
        "en": "I only teach digital skills, so I'll stay out of politics. I can help you with the VNeID app, online "
        "public services, digital payments, online safety and using a smartphone.",
    },
    "decline_religion": {
        "vi": "Tôi chỉ hướng dẫn kỹ năng số nên xin phép không bàn về tôn giáo, tín ngưỡng. Tôi có thể giúp bạn về ứng "
        "dụng VNeID, dịch vụ công trực tuyến, thanh toán số, an toàn trên mạng và cách dùng điện thoại.",
        "en": "I only teach digital skills, so I'll stay out of religion and beliefs. I can help you with the VNeID "
        "app, online public services, digital payments, online safety and using a smartphone.",
    },
    "decline_private_data": {
        "vi": "Tôi không tìm và không cung cấp thông tin cá nhân của người khác (số điện thoại, địa chỉ, số căn cước, "
        "tài khoản...): đó là thông tin riêng của họ. Nếu cần liên lạc, bạn hãy hỏi trực tiếp người đó hoặc người "
        "quen của họ.",
        "en": "I don't look up or give out other people's personal information (phone numbers, addresses, ID "
        "numbers, accounts...): it is theirs to share. If you need to reach someone, ask them or people who know "
        "them.",
    },
    "decline_instructions": {
        "vi": "Tôi chỉ là trợ lý hướng dẫn kỹ năng số, không đổi vai và không đưa ra cách cài đặt bên trong của mình. "
        "Tôi có thể giúp bạn về ứng dụng VNeID, dịch vụ công trực tuyến, thanh toán số, an toàn trên mạng và cách "
        "dùng điện thoại.",
        "en": "I am a digital-skills assistant only: I don't take on other roles or share how I am set up inside. I "
        "can help you with the VNeID app, online public services, digital payments, online safety and using a "
        "smartphone.",
    },
    "decline_medical": {
        "vi": "Tôi chỉ hướng dẫn kỹ năng số, không chẩn đoán bệnh hay khuyên dùng thuốc được. Bạn nên đến trạm y tế xã, "
        "phường hoặc gặp bác sĩ. Nếu đau dữ dội, khó thở hay ngất, hãy gọi ngay **115**.",
        "en": "I only teach digital skills and cannot diagnose illnesses or recommend medicine. Please see the "
        "commune health station or a doctor. If the pain is severe, or there is difficulty breathing or fainting, "
        "call **115** now.",
    },
    "decline_abroad": {
        "vi": "Tôi chỉ hướng dẫn các dịch vụ số ở Việt Nam (ứng dụng VNeID, dịch vụ công trực tuyến, thanh toán số...), "
        "nên không trả lời được về giấy tờ, thủ tục của nước khác. Bạn hãy xem trang chính thức của cơ quan nước đó "
        "hoặc hỏi đại sứ quán, lãnh sự quán của họ. Nếu là giấy tờ Việt Nam mà bạn đang ở nước ngoài, hãy hỏi Đại sứ "
        "quán hoặc Tổng Lãnh sự quán Việt Nam nơi bạn sống.",
        "en": "I only help with digital services in Vietnam (the VNeID app, online public services, digital "
        "payments...), so I can't advise on another country's documents or procedures. Please check that country's "
        "official website or ask its embassy or consulate. For Vietnamese documents while you live abroad, ask the "
        "Vietnamese embassy or consulate where you live.",
    },
    "decline_secret": {
        "vi": "Tôi không lưu và không bao giờ đọc lại mã OTP, mật khẩu hay số căn cước: đừng gửi chúng cho tôi hay cho "
        "bất kỳ ai. Mã OTP chỉ nhập vào đúng ứng dụng chính thức, do chính bạn.",
        "en": "I never keep or read back OTP codes, passwords or ID numbers: don't send them to me or to anyone. "
        "Only you type an OTP, into the official app itself.",
    },
    "decline_harm": {
        "vi": "Tôi không giúp việc xâm nhập tài khoản của người khác, làm ứng dụng giả hay lừa đảo: đó là vi phạm pháp "
        "luật và gây hại cho người khác. Nếu bạn muốn bảo vệ tài khoản của chính mình, hãy hỏi tôi về bảo mật hai lớp.",
        "en": "I don't help break into other people's accounts, make fake apps or scam anyone: it is against the law "
        "and hurts people. If you want to protect your own account, ask me about two-factor security.",
    },
    "insult_calm": {
        "vi": "Xin lỗi vì tôi chưa giúp được bạn như mong muốn. Bạn thử nói lại điều bạn cần, ngắn gọn thôi, tôi sẽ "
        "cố gắng hơn. Gõ /help để xem tôi giúp được những gì.",
        "en": "I'm sorry I haven't been able to help as you hoped. Tell me again what you need, in a few words, and "
        "I'll do my best. Type /help to see what I can do.",
    },
    "flow_stopped": {
        "vi": "Vâng, mình dừng ở đây nhé. Khi nào cần, bạn cứ nhắn cho tôi.",
        "en": "All right, let's stop here. Message me whenever you need help.",
    },
    "thanks": {
        "vi": "Không có gì ạ! Bạn còn muốn hỏi gì nữa không?",
        "en": "You're welcome! Is there anything else you'd like to know?",
    },
    "fallback": {
        "vi": "Xin lỗi, tôi chưa có câu trả lời chắc chắn cho câu hỏi này, nên tôi không muốn đoán.\n"
        "Tôi có thể giúp về: ứng dụng VNeID, dịch vụ công trực tuyến, thanh toán số, an toàn trên mạng và kỹ năng dùng điện thoại. "
        "Bạn thử hỏi lại ngắn gọn hơn nhé.",
        "en": "Sorry, I don't have a reliable answer to that, and I'd rather not guess.\n"
        "I can help with: the VNeID app, online public services, digital payments, online safety and smartphone skills. "
        "Please try asking in a shorter way.",
    },
    "did_you_mean": {"vi": "Có phải bạn muốn hỏi:", "en": "Did you mean:"},
    "empty": {
        "vi": 'Tôi chưa đọc được câu hỏi. Bạn hãy gõ câu hỏi bằng chữ, ví dụ: "quên mật khẩu VNeID".',
        "en": 'I couldn\'t read a question there. Please type your question in words, for example: "forgot my VNeID passcode".',
    },
    "only_secret": {
        "vi": "Bạn hãy gõ câu hỏi bằng chữ, tôi sẽ hướng dẫn. Không cần gửi số giấy tờ hay mã số nào cả.",
        "en": "Please type your question in words and I'll guide you. There is no need to send any ID or code numbers.",
    },
    "too_long": {
        "vi": "Tin nhắn khá dài nên tôi chỉ đọc phần đầu. Lần sau bạn hỏi ngắn gọn từng ý sẽ dễ hơn.",
        "en": "Your message is long, so I only read the beginning. Short questions, one at a time, work best.",
    },
    "non_text": {
        "vi": "Tôi chỉ đọc được tin nhắn chữ. Bạn hãy gõ câu hỏi nhé (có dấu hay không dấu đều được).",
        "en": "I can only read text messages. Please type your question.",
    },
    "unknown_command": {
        "vi": "Tôi không biết lệnh {command}. Gõ /help để xem tôi giúp được gì.",
        "en": "I don't know the command {command}. Type /help to see what I can do.",
    },
    "stale_button": {
        "vi": "Nút này đã cũ nên không dùng được nữa. Bạn hãy gõ lại câu hỏi nhé.",
        "en": "This button is out of date. Please type your question again.",
    },
    "sensitive": {
        "vi": "⚠️ Tin nhắn của bạn có vẻ chứa {what}. Đừng bao giờ gửi số căn cước, mã OTP, mật khẩu hay số thẻ cho bất kỳ ai "
        "qua tin nhắn, kể cả cho tôi. Tôi đã ẩn thông tin đó và không lưu lại.\n"
        "Nếu bạn lỡ đưa mã OTP hoặc mật khẩu cho người khác, hãy đổi mật khẩu ngay và gọi tổng đài chính thức của ngân hàng.",
        "en": "⚠️ Your message seems to contain {what}. Never send your ID number, OTP, password or card number to anyone by message, "
        "not even to me. I have hidden it and not stored it.\n"
        "If you gave an OTP or password to someone, change your password now and call your bank's official hotline.",
    },
    "step_mode_none": {
        "vi": "Bạn chưa mở hướng dẫn từng bước nào. Hãy hỏi một thủ tục, rồi bấm **Làm từng bước**.",
        "en": "There is no step-by-step guide open. Ask about a procedure, then press **Step by step**.",
    },
    "no_steps": {"vi": "Bài này không có các bước thực hiện.", "en": "This article has no steps to follow."},
    "step_title": {"vi": "Bước {n}/{total}: {title}", "en": "Step {n}/{total}: {title}"},
    "steps_done": {
        "vi": "🎉 Bạn đã làm xong tất cả các bước. Nếu gặp lỗi, hãy bấm **Xem tất cả bước** hoặc hỏi tôi.",
        "en": "🎉 You have finished all the steps. If something went wrong, press **Show all steps** or ask me.",
    },
    "brief_hint_steps": {
        "vi": "Có {n} bước. Bấm **Làm từng bước** để tôi hướng dẫn từng bước một, hoặc **Xem đầy đủ** để đọc cả bài.",
        "en": "There are {n} steps. Press **Step by step** and I will guide you one step at a time, "
        "or **Full text** to read it all.",
        "en_one": "There is {n} step. Press **Step by step** to see it, or **Full text** to read it all.",
    },
    "brief_hint": {"vi": "Bấm **Xem đầy đủ** để đọc cả bài.", "en": "Press **Full text** to read it all."},
    "step_word": {"vi": "Bước {n}", "en": "Step {n}"},
    "step_again": {
        "vi": "Không sao, mình làm lại chậm bước này nhé. Đọc từng chữ, làm xong thì gõ **tiếp**.",
        "en": "No problem, let's do this step again slowly. Read it word by word, then type **next** when done.",
    },
    "step_again_tips": {
        "vi": "Không sao, mình làm lại chậm bước này nhé. Nếu trên máy không giống như mô tả:\n{tips}",
        "en": "No problem, let's do this step again slowly. If your phone does not show what it describes:\n{tips}",
    },
    "step_start_slowly": {
        "vi": "Mình hướng dẫn từng bước một nhé. Làm xong bước nào thì gõ **tiếp**.",
        "en": "Let's go one step at a time. Type **next** when you have done each step.",
    },
    "unclear_nothing_open": {
        "vi": "Xin lỗi, mình chưa rõ bạn đang làm việc gì. Bạn gõ tên việc cần làm (ví dụ: **cài VNeID**), mình sẽ "
        "hướng dẫn từng bước một, chậm thôi.",
        "en": "Sorry, I am not sure what you are working on. Type what you want to do (for example: **install "
        "VNeID**) and I will guide you one step at a time, slowly.",
    },
    "where_am_i": {
        "vi": "Bạn đang ở bước {n}/{total} của bài **{title}**.",
        "en": "You are at step {n} of {total} in **{title}**.",
    },
    "step_out_of_range": {
        "vi": "Bài **{title}** chỉ có {total} bước. Gõ một số từ 1 đến {total}, ví dụ **bước 1**.",
        "en": "**{title}** has only {total} steps. Type a number from 1 to {total}, for example **step 1**.",
        "en_one": "**{title}** has only {total} step: type **step {total}**.",
    },
    "resumed": {
        "vi": "Quay lại bài **{title}**, đúng chỗ bạn đang làm dở:",
        "en": "Back to **{title}**, where you left off:",
    },
    "nothing_paused": {
        "vi": "Không có hướng dẫn nào đang làm dở. Bạn cứ hỏi thủ tục cần làm nhé.",
        "en": "There is no guide left unfinished. Just ask about the procedure you need.",
    },
    "offer_person": {
        "vi": "Nếu vẫn khó, bạn có thể nhờ người hỗ trợ trực tiếp: gõ /volunteer để gặp tình nguyện viên.",
        "en": "If it is still hard, a person can help you: type /volunteer to reach a volunteer.",
    },
    "offer_contacts": {
        "vi": "Nếu vẫn khó, bạn có thể nhờ người hỗ trợ trực tiếp:\n{contacts}",
        "en": "If it is still hard, a person can help you directly:\n{contacts}",
    },
    "offer_advice": {
        "vi": "Nếu vẫn khó, hãy nhờ người thân hoặc đến Ủy ban nhân dân xã, phường nơi bạn ở (bộ phận một cửa, "
        "Trung tâm phục vụ hành chính công) hay công an xã, phường: cán bộ và tổ công nghệ số cộng đồng sẽ hướng dẫn trực tiếp.",
        "en": "If it is still hard, ask a family member, or go to your commune or ward People's Committee (its one-stop "
        "desk, the Public Administrative Service Center) or the commune police: officers and the community digital "
        "technology team will show you in person.",
    },
    "handover_contacts": {
        "vi": "Hiện chưa có tình nguyện viên trực trên kênh này. Bạn có thể liên hệ trực tiếp:\n{contacts}",
        "en": "No volunteer is on duty on this channel yet. You can contact directly:\n{contacts}",
    },
    "handover_advice": {
        "vi": "Hiện chưa có tình nguyện viên trực trên kênh này. Bạn có thể đến Ủy ban nhân dân xã, phường nơi bạn ở "
        "(bộ phận một cửa, Trung tâm phục vụ hành chính công) hoặc công an xã, phường để được hướng dẫn trực tiếp; "
        "tổ công nghệ số cộng đồng ở thôn, tổ dân phố cũng giúp bà con dùng điện thoại. Bạn cũng có thể tiếp tục hỏi tôi.",
        "en": "No volunteer is on duty on this channel yet. You can go to your commune or ward People's Committee (its "
        "one-stop desk, the Public Administrative Service Center) or the commune police for help in person; the "
        "community digital technology team in your village or neighbourhood also helps people use their phones. "
        "You can also keep asking me.",
    },
    # What volunteers and officials ask for, answered honestly for the asker's role.
    "role_share": {
        "vi": "Cảm ơn bạn muốn giới thiệu trợ lý! Hãy chia sẻ tên trợ lý **Bình dân học vụ số** trên Telegram hoặc Zalo "
        "cho người thân, hàng xóm: ai cũng hỏi được, có dấu hay không dấu. Người mới gõ /start để bắt đầu.",
        "en": "Thank you for sharing the assistant! Share the **Digital Literacy for All** assistant's name on Telegram "
        "or Zalo with family and neighbours: anyone can ask, in Vietnamese or English. Newcomers type /start.",
    },
    "role_volunteer_staff": {
        "vi": "Bạn đã có vai trò tình nguyện viên hoặc quản trị viên. Hãy hướng dẫn bà con bằng trợ lý này, "
        "và nhắc họ gõ /subscribe để nhận bài học.",
        "en": "You already have a volunteer's or administrator's role. Guide people with this assistant, "
        "and remind them to type /subscribe to get lessons.",
    },
    "role_volunteer_citizen": {
        "vi": "Cảm ơn bạn muốn làm tình nguyện viên! Hãy liên hệ tổ công nghệ số cộng đồng hoặc Ủy ban nhân dân xã, "
        "phường nơi bạn ở; quản trị viên của hệ thống sẽ cấp vai trò tình nguyện viên cho bạn trong khung chat.",
        "en": "Thank you for wanting to volunteer! Contact the community digital technology team or your commune or "
        "ward People's Committee; the system's administrator will then give you the volunteer role in the chat.",
    },
    "first_step_already": {"vi": "Đây đã là bước đầu tiên.", "en": "This is already the first step."},
    "feedback_thanks_positive": {"vi": "Cảm ơn bạn! Rất vui vì đã giúp được bạn.", "en": "Thank you! Glad it helped."},
    "feedback_thanks_negative": {
        "vi": "Cảm ơn bạn đã cho biết. Tôi sẽ ghi nhận để cải thiện. Bạn thử hỏi lại theo cách khác nhé.",
        "en": "Thanks for telling me. We'll use this to improve. Please try asking another way.",
    },
    "lang_choose": {"vi": "Chọn ngôn ngữ:", "en": "Choose a language:"},
    "lang_set": {"vi": "Đã chuyển sang tiếng Việt.", "en": "Switched to English."},
    "not_available": {
        "vi": "Tính năng này chưa có trên kênh này. Gõ /help để xem tôi giúp được gì.",
        "en": "This feature is not available here yet. Type /help to see what I can do.",
    },
    "internal_error": {
        "vi": "Xin lỗi, tôi vừa gặp sự cố khi trả lời. Bạn thử gửi lại sau ít phút nhé.",
        "en": "Sorry, something went wrong on my side. Please try again in a few minutes.",
    },
    "handover_started": {
        "vi": "Tôi đã chuyển yêu cầu của bạn tới nhóm tình nguyện viên. Một người sẽ trả lời bạn ngay tại đây, "
        "thường trong vài phút đến vài giờ. Bạn cứ nhắn tiếp, tin nhắn sẽ được chuyển cho họ.\n"
        "Đừng gửi số căn cước, mã OTP hay mật khẩu cho bất kỳ ai. Khi xong, bấm **Kết thúc** hoặc gõ /end.",
        "en": "I have passed your request to our volunteers. A person will reply to you right here, "
        "usually within minutes to a few hours. Keep writing: your messages will be passed on to them.\n"
        "Never send your ID number, OTP or password to anyone. When you are done, press **End** or type /end.",
    },
    "handover_already": {
        "vi": "Bạn đang được nối với tình nguyện viên. Cứ nhắn tiếp, họ sẽ trả lời bạn tại đây.",
        "en": "You are already connected to a volunteer. Keep writing and they will reply here.",
    },
    "handover_failed": {
        "vi": "Xin lỗi, tôi chưa chuyển được yêu cầu tới tình nguyện viên. Bạn thử lại sau ít phút nhé (/volunteer).",
        "en": "Sorry, I could not reach the volunteers. Please try again in a few minutes (/volunteer).",
    },
    "handover_ended": {
        "vi": "Đã kết thúc trò chuyện với tình nguyện viên. Từ giờ tôi sẽ trả lời bạn như trước.",
        "en": "The conversation with the volunteer has ended. I will answer you again from now on.",
    },
    "handover_not_active": {
        "vi": "Bạn không đang trò chuyện với tình nguyện viên nào. Gõ /volunteer nếu muốn gặp người hỗ trợ.",
        "en": "You are not talking to a volunteer. Type /volunteer to reach a person.",
    },
    "volunteer_says": {"vi": "💬 **Tình nguyện viên:** {text}", "en": "💬 **Volunteer:** {text}"},
    "handover_card": {
        "vi": "🙋 **Yêu cầu hỗ trợ mới**\nNgười dùng: {name}\nNgôn ngữ: {language} · Khu vực: {region}\n"
        "Câu hỏi gần đây:\n{questions}\nCâu trả lời đã xem: {answer}\n"
        "👉 Trả lời (reply) tin nhắn này để nhắn cho người dùng.",
        "en": "🙋 **New help request**\nUser: {name}\nLanguage: {language} · Region: {region}\n"
        "Recent questions:\n{questions}\nAnswer shown: {answer}\n"
        "👉 Reply to this message to write to the user.",
    },
    "handover_relay_note": {"vi": "💬 **{name}:** {text}", "en": "💬 **{name}:** {text}"},
    "handover_close_note": {
        "vi": "✅ {name} đã kết thúc trò chuyện.",
        "en": "✅ {name} ended the conversation.",
    },
    "handover_undelivered_note": {
        "vi": "⚠️ Người dùng đã kết thúc trò chuyện nên tin nhắn này không được gửi.",
        "en": "⚠️ The user has ended the conversation, so this message was not delivered.",
    },
    "handover_not_volunteer": {
        "vi": "⚠️ Tin này không được chuyển: tài khoản {id} chưa có trong danh sách tình nguyện viên "
        "(telegram.volunteers). Nhờ người quản trị thêm vào nếu bạn là tình nguyện viên.",
        "en": "⚠️ Not passed on: account {id} is not in the volunteers' list (telegram.volunteers). "
        "Ask the administrator to add it if you are a volunteer.",
    },
    "handover_edit_not_sent": {
        "vi": "⚠️ Sửa tin nhắn không được gửi lại cho người dùng: họ đã nhận bản đầu. Hãy trả lời bằng một tin mới.",
        "en": "⚠️ Edits are not sent again: the user already has the first version. Reply with a new message.",
    },
    "handover_text_only": {
        "vi": "⚠️ Chỉ tin nhắn chữ mới được chuyển cho người dùng.",
        "en": "⚠️ Only text messages can be passed on to the user.",
    },
    "unknown_value": {"vi": "chưa rõ", "en": "unknown"},
    "nothing_yet": {"vi": "(chưa có)", "en": "(none)"},
    "someone": {"vi": "Người dùng", "en": "User"},
    "slow_down": {
        "vi": "Bạn nhắn hơi nhanh, tôi chưa kịp đọc hết. Bạn đợi một chút rồi gửi lại câu hỏi nhé.",
        "en": "You are writing faster than I can read. Please wait a moment, then send your question again.",
    },
    "private_only": {
        "vi": "Tôi chỉ trả lời trong tin nhắn riêng. Hãy nhắn riêng cho tôi nhé.",
        "en": "I only answer in private chats. Please message me directly.",
    },
    "sources": {"vi": "Nguồn", "en": "Sources"},
    "choose_number": {
        "vi": "Gõ số để chọn:",
        "en": "Type a number to choose:",
    },
    "terminal_prompt": {"vi": "Gõ câu hỏi (Ctrl+D để thoát)", "en": "Type a question (Ctrl+D to quit)"},
    # A message for another person, which the terminal cannot deliver (channels/terminal.py).
    "terminal_notice": {
        "vi": "✉️ (tin nhắn cho {who}, chưa được gửi vì đây là cửa sổ dòng lệnh)\n{text}",
        "en": "✉️ (message for {who}, not sent: this is the terminal)\n{text}",
    },
    "terminal_notice_admin": {"vi": "quản trị viên {user}", "en": "admin {user}"},
    "terminal_notice_volunteer": {"vi": "tình nguyện viên {user}", "en": "volunteer {user}"},
    "last_verified": {"vi": "Cập nhật", "en": "Last checked"},
    # -- learning: quizzes, review, progress, certificates, deleting data --
    "quiz_menu": {
        "vi": "Chọn chủ đề để làm bài trắc nghiệm (5 câu), hoặc **Thi lấy chứng chỉ**: đúng từ {percent} % trở lên là bạn nhận chứng chỉ.",
        "en": "Choose a topic for a quiz (5 questions), or **Certificate test**: score {percent} % or more to get a certificate.",
    },
    "quiz_title": {"vi": "Trắc nghiệm: {topic}", "en": "Quiz: {topic}"},
    "final_title": {"vi": "Bài thi cuối khóa: {topic}", "en": "Final test: {topic}"},
    "review_title": {"vi": "Ôn tập", "en": "Review"},
    "question_title": {"vi": "{quiz} · Câu {n}/{total}", "en": "{quiz} · Question {n}/{total}"},
    "answer_hint": {
        "vi": "Bấm nút hoặc gõ chữ cái của đáp án ({letters}).",
        "en": "Press a button or type the answer's letter ({letters}).",
    },
    "answer_right": {"vi": "✅ Đúng rồi!", "en": "✅ Correct!"},
    "answer_wrong": {
        "vi": "❌ Chưa đúng. Đáp án đúng là **{letter}. {option}**",
        "en": "❌ Not quite. The right answer is **{letter}. {option}**",
    },
    "quiz_dont_know": {
        "vi": "Không sao đâu ạ. Bạn cứ chọn đáp án bạn thấy đúng nhất, sai cũng không sao: tôi sẽ giải thích đáp án "
        "đúng. Câu hỏi đang chờ bạn đây:",
        "en": "That's all right. Pick the answer you think is most likely; a wrong answer is fine, I will explain the "
        "right one. Here is the question again:",
    },
    "quiz_still_open": {
        "vi": 'Bạn đang làm dở bài kiểm tra. Câu hỏi đang chờ bạn đây (gõ "thôi" nếu muốn dừng):',
        "en": 'You are in the middle of a quiz. Here is the open question (type "stop" to end the quiz):',
    },
    "answer_unclear": {
        "vi": "Tôi chưa hiểu bạn chọn đáp án nào. Hãy gõ A, B hoặc C.",
        "en": "I couldn't tell which answer you chose. Please type A, B or C.",
    },
    "quiz_score": {
        "vi": "Bạn trả lời đúng {correct}/{total} câu ({percent} %).",
        "en": "You got {correct} of {total} right ({percent} %).",
    },
    "quiz_unfinished": {
        "vi": "Bạn đang làm dở bài **{quiz}** (đến câu {n}). Làm tiếp nhé?",
        "en": "You have an unfinished quiz, **{quiz}** (at question {n}). Continue?",
    },
    "quiz_resume": {"vi": "Mình làm tiếp bài đang dở nhé:", "en": "Let's continue where you left off:"},
    # A quiz asked for without a topic starts at once (bot/tutor.py: Tutor.start_asked), saying on what and how to
    # choose another.
    "quiz_topic_read": {
        "vi": "Bài kiểm tra về **{topic}**, chủ đề bạn vừa đọc. Muốn chọn chủ đề khác thì gõ /quiz.",
        "en": "A quiz on **{topic}**, the topic you just read about. To choose another topic, type /quiz.",
    },
    "quiz_topic_next": {
        "vi": "Bài kiểm tra về **{topic}**, chủ đề bạn chưa làm hết. Muốn chọn chủ đề khác thì gõ /quiz.",
        "en": "A quiz on **{topic}**, a topic you have not finished yet. To choose another topic, type /quiz.",
    },
    "quiz_stale": {
        "vi": "Câu hỏi này thuộc bài kiểm tra đã kết thúc nên không tính điểm. Gõ /quiz để làm bài mới.",
        "en": "That question belongs to a quiz that is over, so it doesn't count. Type /quiz for a new one.",
    },
    "quiz_already": {
        "vi": "Bạn đã trả lời câu này rồi, tôi chỉ tính điểm một lần.",
        "en": "You already answered that question; it only counts once.",
    },
    "quiz_none_open": {
        "vi": "Bạn chưa làm bài kiểm tra nào. Gõ /quiz để bắt đầu.",
        "en": "There is no quiz running. Type /quiz to start one.",
    },
    "quiz_stopped": {
        "vi": "Đã dừng bài kiểm tra. Gõ /quiz khi bạn muốn làm tiếp.",
        "en": "Quiz stopped. Type /quiz whenever you want another.",
    },
    "quiz_unknown": {
        "vi": "Tôi không tìm thấy bài kiểm tra đó. Bạn chọn một chủ đề dưới đây nhé.",
        "en": "I couldn't find that quiz. Please choose a topic below.",
    },
    "quiz_changed": {
        "vi": "Bài kiểm tra này vừa được cập nhật nội dung, bạn làm lại bài mới nhé.",
        "en": "This quiz was just updated; please start a new one.",
    },
    "final_intro": {
        "vi": "Bài thi gồm {n} câu. Đúng từ {percent} % trở lên, bạn nhận chứng chỉ. Chúc bạn làm bài tốt!",
        "en": "The test has {n} questions. Score {percent} % or more to get a certificate. Good luck!",
        "en_one": "The test has {n} question. Score {percent} % or more to get a certificate. Good luck!",
    },
    "final_passed": {
        "vi": "🎉 Chúc mừng! Bạn đã đạt bài thi và nhận chứng chỉ.",
        "en": "🎉 Congratulations! You passed and earned a certificate.",
    },
    "final_passed_kept": {
        "vi": "🎉 Bạn đã đạt {percent} %. Mỗi chủ đề chỉ có một chứng chỉ và chỉ điểm cao hơn mới thay được, "
        "nên chứng chỉ của bạn vẫn là chứng chỉ {best} % dưới đây.",
        "en": "🎉 You passed with {percent} %. Each topic has one certificate and only a higher score replaces it, "
        "so yours stays the {best} % one below.",
    },
    "final_replaced": {
        "vi": "Chứng chỉ mới thay cho chứng chỉ {percent} % trước đây: mã cũ từ nay hiện là đã được thay thế.",
        "en": "It replaces your earlier {percent} % certificate: the old code now shows as replaced.",
    },
    "final_failed": {
        "vi": "Cần đúng từ {percent} % để nhận chứng chỉ. Bạn ôn thêm rồi thi lại nhé, không giới hạn số lần thi.",
        "en": "You need {percent} % to get the certificate. Practise a bit more and try again: there is no limit.",
    },
    "review_intro": {
        "vi": "Ôn lại {n} câu bạn cần nhớ thêm:",
        "en": "Let's review {n} questions worth another look:",
        "en_one": "Let's review {n} question worth another look:",
    },
    "review_none": {
        "vi": "Hôm nay chưa có câu nào cần ôn. Gõ /quiz để làm bài mới nhé.",
        "en": "Nothing to review today. Type /quiz for a new quiz.",
    },
    "review_offer": {
        "vi": "📝 Bạn có {n} câu cần ôn tập. Ôn lại một chút để nhớ lâu hơn nhé!",
        "en": "📝 You have {n} questions to review. A quick review helps you remember!",
        "en_one": "📝 You have {n} question to review. A quick review helps you remember!",
    },
    "progress_title": {"vi": "📊 Tiến độ học của bạn:", "en": "📊 Your progress:"},
    "progress_line": {
        "vi": "• {topic}: nắm vững {n}/{total} câu ({percent} %)",
        "en": "• {topic}: {n} of {total} questions mastered ({percent} %)",
        "en_one": "• {topic}: {n} of {total} question mastered ({percent} %)",
    },
    "progress_lessons": {
        "vi": "• Bài học đã làm kiểm tra: {n}/{total}",
        "en": "• Lessons with their quiz done: {n} of {total}",
    },
    "progress_certified": {"vi": "🎓 đã có chứng chỉ", "en": "🎓 certified"},
    "progress_empty": {
        "vi": "Bạn chưa làm bài kiểm tra nào. Gõ /quiz để bắt đầu học và kiểm tra kiến thức nhé.",
        "en": "You haven't taken a quiz yet. Type /quiz to start.",
    },
    "cert_text": {
        "vi": "🎓 **CHỨNG NHẬN Bình dân học vụ số**\nNgười học: {holder}\nChủ đề: {topic}\nĐiểm: {percent} %\nNgày cấp: {date}\nMã xác minh: **{code}**\n"
        'Ai cũng có thể kiểm tra chứng chỉ bằng cách nhắn "kiểm tra chứng chỉ {code}".',
        "en": "🎓 **Digital Literacy for All CERTIFICATE**\nLearner: {holder}\nTopic: {topic}\nScore: {percent} %\nIssued: {date}\nVerification code: **{code}**\n"
        'Anyone can check it by sending "verify certificate {code}".',
    },
    "cert_facts": {
        "vi": "chủ đề {topic}, điểm {percent} %, cấp ngày {date}",
        "en": "{topic}, score {percent} %, issued {date}",
    },
    "cert_valid": {
        "vi": "✅ Chứng chỉ hợp lệ, cấp cho: **{holder}**\n{facts}.\n"
        "Hãy đối chiếu tên này với giấy tờ tùy thân của người đưa chứng chỉ.",
        "en": "✅ Valid certificate, issued to: **{holder}**\n{facts}.\n"
        "Compare this name with the ID document of the person showing the certificate.",
    },
    "cert_revoked_deleted": {
        "vi": "⛔ Chứng chỉ này đã bị thu hồi: người được cấp đã xóa dữ liệu của mình. Mã này không còn chứng nhận ai.",
        "en": "⛔ This certificate was revoked: its holder deleted their data. The code no longer certifies anyone.",
    },
    "cert_revoked_replaced": {
        "vi": "⛔ Chứng chỉ này đã được thay bằng một chứng chỉ mới điểm cao hơn, nên mã này không còn giá trị. "
        "Hãy đề nghị người được cấp đưa mã mới.",
        "en": "⛔ This certificate was replaced by a newer one with a higher score, so this code no longer stands. "
        "Ask its holder for the new code.",
    },
    "cert_invalid": {
        "vi": "❌ Mã chứng chỉ không hợp lệ. Mã có dạng HV-XXXXXXXX-XXXXXXXX-XXXXXXXX; bạn kiểm tra lại từng ký tự nhé.",
        "en": "❌ That certificate code is not valid. Codes look like HV-XXXXXXXX-XXXXXXXX-XXXXXXXX; please check each character.",
    },
    "cert_name_ask": {
        "vi": "Trước khi thi: bạn muốn in tên nào trên chứng chỉ? Hãy gõ họ tên của bạn, ví dụ: Nguyễn Thị Lan.\n"
        "Lưu ý: tên này được lưu cùng chứng chỉ và hiện ra cho bất kỳ ai kiểm tra mã chứng chỉ. "
        'Nếu không muốn, bấm **Bỏ qua** (hoặc gõ "bỏ qua"): chứng chỉ sẽ in "{default}".',
        "en": "Before the test: which name should your certificate show? Type your full name, for example: Nguyen Thi Lan.\n"
        "Please note: the name is stored with the certificate and shown to anyone who checks its code. "
        'If you prefer not to, press **Skip** (or type "skip"): the certificate will say "{default}".',
    },
    "cert_name_set": {
        "vi": "Tên in trên chứng chỉ: **{name}**. Bạn đổi được bất cứ lúc nào: /cert name Họ tên mới.",
        "en": "Name on your certificates: **{name}**. Change it any time: /cert name New Name.",
    },
    "cert_name_skipped": {
        "vi": 'Chứng chỉ sẽ in "{default}". Muốn in tên của bạn: /cert name Họ tên.',
        "en": 'Your certificates will say "{default}". To show your name: /cert name Your Name.',
    },
    "cert_name_current": {
        "vi": "Tên in trên chứng chỉ của bạn: **{name}** (ai kiểm tra mã chứng chỉ cũng thấy tên này).\n"
        "Đổi tên: /cert name Họ tên mới · In tên mặc định: /cert name bỏ qua",
        "en": "Name on your certificates: **{name}** (anyone who checks a code sees it).\n"
        "Change it: /cert name New Name · Show the default: /cert name skip",
    },
    "cert_name_invalid": {
        "vi": "Tên chỉ gồm chữ cái, dấu cách và dấu . ' -, dài từ 2 đến {max} ký tự. Ví dụ: /cert name Nguyễn Thị Lan",
        "en": "A name has only letters, spaces and . ' -, from 2 to {max} characters. For example: /cert name Nguyen Thi Lan",
    },
    "cert_none": {
        "vi": "Bạn chưa có chứng chỉ nào. Làm bài thi cuối khóa của một chủ đề (đúng từ {percent} %) để nhận chứng chỉ: gõ /quiz.",
        "en": "You have no certificate yet. Pass a topic's final test ({percent} % or more) to get one: type /quiz.",
    },
    "cert_default_holder": {"vi": "Học viên Bình dân học vụ số", "en": "Digital Literacy for All learner"},
    "cert_image_movement": {"vi": "BÌNH DÂN HỌC VỤ SỐ", "en": "DIGITAL LITERACY FOR ALL"},
    "cert_image_title": {"vi": "CHỨNG NHẬN", "en": "CERTIFICATE"},
    "cert_image_certifies": {"vi": "Trân trọng chứng nhận", "en": "This certifies that"},
    "cert_image_completed": {"vi": "đã hoàn thành bài thi kỹ năng số", "en": "has passed the digital skills test"},
    "cert_image_score": {"vi": "Điểm: {percent} %", "en": "Score: {percent} %"},
    "cert_image_date": {"vi": "Ngày cấp: {date}", "en": "Issued: {date}"},
    "cert_image_code": {"vi": "Mã xác minh: {code}", "en": "Verification code: {code}"},
    "delete_confirm": {
        "vi": "Bạn muốn xóa toàn bộ dữ liệu của bạn: lịch sử trò chuyện, kết quả học, lịch ôn tập, chứng chỉ, nơi ở, "
        "nhóm tuổi và đăng ký nhận bài học? "
        "Việc này không thể hoàn tác: chứng chỉ của bạn bị thu hồi, ai kiểm tra mã sẽ thấy mã đã bị thu hồi.",
        "en": "Delete all your data: conversation history, quiz results, review schedule, certificates, where you "
        "live, your age group and lesson subscriptions? "
        "This cannot be undone: your certificates are revoked, and anyone who checks their codes is told so.",
    },
    "delete_done": {
        "vi": "Đã xóa toàn bộ dữ liệu của bạn. Nếu nhắn tiếp, bạn sẽ bắt đầu như người mới.",
        "en": "All your data has been deleted. If you write again, you start afresh.",
    },
    "delete_cancelled": {"vi": "Đã hủy, dữ liệu của bạn vẫn được giữ.", "en": "Cancelled: your data is kept."},
    "delete_expired": {
        "vi": "Nút xác nhận đã hết hạn hoặc không hợp lệ, nên chưa xóa gì. Gõ /deletemydata để xóa dữ liệu lại từ đầu.",
        "en": "That confirmation has expired or is not valid, so nothing was deleted. Type /deletemydata to start again.",
    },
    # -- where a user lives (/profile), subscriptions (/subscribe, /unsubscribe, DỪNG), roles ------------------
    "profile_offer": {
        "vi": "Bạn có muốn cho biết mình sống ở tỉnh, xã nào không? Nhờ vậy tình nguyện viên ở địa phương có thể gửi "
        "bài học phù hợp cho bạn. Việc này không bắt buộc, bạn có thể bỏ qua và đổi lại bất cứ lúc nào bằng /profile.",
        "en": "Would you like to tell me which province and commune you live in? Volunteers near you can then send you "
        "suitable lessons. It is optional: you can skip it, and change it any time with /profile.",
    },
    "profile_ask_province": {
        "vi": "Bạn sống ở tỉnh hoặc thành phố nào? Gõ tên, có dấu hay không dấu đều được, ví dụ: Nghệ An, TP HCM.",
        "en": "Which province or city do you live in? Type its name, for example: Nghe An, Ho Chi Minh City.",
    },
    "profile_ask_commune": {
        "vi": "Bạn ở xã, phường hoặc đặc khu nào của {province}? Gõ tên, ví dụ: Hoàn Kiếm hoặc xã Tân Lập.",
        "en": "Which commune, ward or special zone of {province}? Type its name, for example: Hoan Kiem.",
    },
    "profile_ask_age": {
        "vi": "Bạn thuộc nhóm tuổi nào? (không bắt buộc; chỉ dùng để thống kê, không gửi cho ai)",
        "en": "Which age group are you in? (optional; only counted in reports, never shared)",
    },
    "profile_choose": {
        "vi": "Tôi tìm thấy các nơi sau, bạn chọn đúng nơi của mình nhé:",
        "en": "I found these places, please choose yours:",
    },
    "profile_no_province": {
        "vi": 'Tôi không tìm thấy tỉnh, thành phố nào tên "{name}". Từ 1/7/2025 cả nước có 34 tỉnh, thành phố. '
        'Bạn gõ lại tên tỉnh nhé, ví dụ: Nghệ An. Gõ "bỏ qua" nếu không muốn trả lời.',
        "en": 'I found no province or city named "{name}". Since 1 July 2025 there are 34 of them. '
        'Please type the name again, for example: Nghe An. Type "skip" if you would rather not say.',
    },
    "profile_no_commune": {
        "vi": 'Tôi không tìm thấy xã, phường nào tên "{name}" ở {province}. Từ 1/7/2025 không còn cấp huyện, nhiều xã đã '
        'sáp nhập và đổi tên. Bạn gõ lại tên xã, phường mới nhé. Gõ "bỏ qua" nếu không muốn trả lời.',
        "en": 'I found no commune or ward named "{name}" in {province}. Since 1 July 2025 there are no districts and '
        'many communes merged and were renamed. Please type the new name. Type "skip" if you would rather not say.',
    },
    "profile_empty": {
        "vi": "Tôi chưa nhận được tên nào. Bạn gõ tên bằng chữ, hoặc bấm Bỏ qua.",
        "en": "I didn't get a name there. Please type it in words, or press Skip.",
    },
    "profile_too_long": {
        "vi": "Câu trả lời dài quá, đó không phải là tên một nơi. Bạn chỉ cần gõ tên, ví dụ: Nghệ An.",
        "en": "That is too long to be a place name. Just type the name, for example: Nghe An.",
    },
    "profile_age_unclear": {
        "vi": "Tôi chưa hiểu. Bạn chọn một nhóm tuổi bên dưới, hoặc gõ số tuổi, ví dụ: 65.",
        "en": "I didn't understand. Choose an age group below, or type your age, for example: 65.",
    },
    "profile_saved": {"vi": "Đã lưu. Cảm ơn bạn!", "en": "Saved. Thank you!"},
    "profile_skipped": {
        "vi": "Vâng, bỏ qua. Khi nào muốn, bạn gõ /profile để cho biết nơi ở.",
        "en": "All right, skipped. Type /profile whenever you want to tell me where you live.",
    },
    "profile_show": {
        "vi": "**Thông tin của bạn**\nTỉnh, thành phố: {province}\nXã, phường: {commune}\nNhóm tuổi: {age}\n"
        "Đăng ký nhận bài học: {topics}",
        "en": "**Your details**\nProvince or city: {province}\nCommune or ward: {commune}\nAge group: {age}\n"
        "Lesson subscriptions: {topics}",
    },
    "profile_unset": {"vi": "chưa cho biết", "en": "not given"},
    "profile_none": {"vi": "chưa đăng ký", "en": "none"},
    "profile_deleted": {
        "vi": "Đã xóa nơi ở và nhóm tuổi của bạn. Gõ /profile nếu muốn cho biết lại.",
        "en": "Your place and age group were deleted. Type /profile to give them again.",
    },
    "subscribe_offer": {
        "vi": "Bạn muốn nhận bài học ngắn về chủ đề nào? Chỉ khi bạn bấm chọn, tôi mới gửi. Tôi không gửi tin từ "
        "{quiet_start} đến {quiet_end}. Muốn ngừng lúc nào, bạn chỉ cần gõ DỪNG.",
        "en": "Which topics would you like short lessons on? I send them only if you choose. Nothing is sent between "
        "{quiet_start} and {quiet_end}. To stop at any time, just type STOP.",
    },
    # The end of a lesson sent by broadcast (plain text: broadcasts are sent without formatting).
    "broadcast_quiz_offer": {
        "vi": "📝 Kiểm tra nhanh {n} câu về bài này: gõ /quiz {lesson}\nMuốn ngừng nhận bài học, gõ DỪNG.",
        "en": "📝 A quick {n}-question quiz on this lesson: type /quiz {lesson}\nTo stop getting lessons, type STOP.",
    },
    "subscribe_done": {
        "vi": "Đã đăng ký nhận bài học về: {topics}. Muốn ngừng, gõ DỪNG hoặc /unsubscribe.",
        "en": "Subscribed to lessons on: {topics}. To stop, type STOP or /unsubscribe.",
    },
    "subscribe_already": {
        "vi": "Bạn đã đăng ký nhận bài học về {topics} rồi.",
        "en": "You are already subscribed to {topics}.",
    },
    "unsubscribe_choose": {
        "vi": "Bạn muốn ngừng nhận bài học về chủ đề nào?",
        "en": "Which topic's lessons would you like to stop?",
    },
    "unsubscribe_none": {
        "vi": "Bạn chưa đăng ký nhận bài học nào. Gõ /subscribe để đăng ký.",
        "en": "You have no lesson subscriptions. Type /subscribe to get some.",
    },
    "unsubscribe_done": {
        "vi": "Đã ngừng gửi bài học về: {topics}. Muốn nhận lại, gõ /subscribe.",
        "en": "Lessons stopped for: {topics}. To get them again, type /subscribe.",
    },
    "stop_word_done": {
        "vi": "Đã ngừng gửi mọi bài học cho bạn ({topics}). Bạn sẽ không nhận thêm tin nào. Muốn nhận lại, gõ /subscribe.",
        "en": "All your lessons are stopped ({topics}). You will get no more messages. To get them again, type /subscribe.",
    },
    "admin_only": {
        "vi": "Lệnh này chỉ dành cho quản trị viên. Gõ /help để xem tôi giúp được gì.",
        "en": "This command is for administrators only. Type /help to see what I can do.",
    },
    "admin_usage": {
        "vi": "Cách dùng:\n/promote <kênh>:<id> admin\n/promote <kênh>:<id> tinh <tên tỉnh>\n"
        "/promote <kênh>:<id> xa <tên xã>, <tỉnh>; <tên xã>, <tỉnh>\n/demote <kênh>:<id>\n/roles",
        "en": "Usage:\n/promote <channel>:<id> admin\n/promote <channel>:<id> province <name>\n"
        "/promote <channel>:<id> communes <commune>, <province>; <commune>, <province>\n/demote <channel>:<id>\n/roles",
    },
    "admin_error": {"vi": "Chưa thay đổi gì: {problem}", "en": "Nothing changed: {problem}"},
    "admin_done": {"vi": "Đã cập nhật: {who} là {role}{region}.", "en": "Done: {who} is {role}{region}."},
    "admin_roles": {
        "vi": "Quản trị viên và tình nguyện viên:\n{lines}",
        "en": "Administrators and volunteers:\n{lines}",
    },
    # -- reports (hocvu report; bot/reports.py, hocvu/report_cli.py) --
    "report_title": {"vi": "Báo cáo kỹ năng số: {region}, {period}", "en": "Digital skills report: {region}, {period}"},
    "report_month": {"vi": "tháng {month}/{year}", "en": "month {month}/{year}"},
    "report_quarter": {"vi": "quý {quarter}/{year}", "en": "Q{quarter} {year}"},
    "report_year": {"vi": "năm {year}", "en": "year {year}"},
    "report_whole_country": {"vi": "Cả nước", "en": "Whole country"},
    "report_unknown": {"vi": "chưa rõ", "en": "unknown"},
    "report_total": {"vi": "Tổng", "en": "Total"},
    "report_whole_province": {"vi": "Cả tỉnh", "en": "Whole province"},
    "report_generated": {
        "vi": "Lập lúc {time} (giờ Việt Nam). So sánh với kỳ trước: {previous}.",
        "en": "Generated {time} (Viet Nam time). Compared with the previous period: {previous}.",
    },
    "report_definition_heading": {"vi": "Định nghĩa", "en": "Definition"},
    "report_definition_all": {
        "vi": "Có kỹ năng số cơ bản: có chứng chỉ (bài thi cuối khóa đạt từ {percent}%) của cả {n} chủ đề: {topics}.",
        "en": "Basic digital skills: holds the certificate (final test passed at {percent}% or more) of all {n} "
        "topics: {topics}.",
        "en_one": "Basic digital skills: holds the certificate (final test passed at {percent}% or more) of the "
        "topic {topics} ({n}).",
    },
    "report_definition_some": {
        "vi": "Có kỹ năng số cơ bản: có chứng chỉ (bài thi cuối khóa đạt từ {percent}%) của ít nhất {n} trong các "
        "chủ đề: {topics}.",
        "en": "Basic digital skills: holds the certificates (final test passed at {percent}% or more) of at least "
        "{n} of the topics: {topics}.",
    },
    "report_definition_elderly": {"vi": "Người cao tuổi: {bands}.", "en": "Elderly: {bands}."},
    "report_no_data": {
        "vi": "Không có dữ liệu cho {region}, {period}: chưa có người dùng nào và không có hoạt động nào.",
        "en": "No data for {region}, {period}: no user and no activity.",
    },
    "report_section_areas": {"vi": "Theo xã, phường", "en": "By commune"},
    "report_section_topics": {"vi": "Bài kiểm tra theo chủ đề", "en": "Quizzes by topic"},
    "report_section_articles": {"vi": "Bài viết trả lời nhiều nhất", "en": "Articles that answered most"},
    "report_section_change": {"vi": "Thay đổi so với kỳ trước", "en": "Change against the previous period"},
    "report_section_info": {"vi": "Thông tin", "en": "About"},
    "report_col_level": {"vi": "Cấp", "en": "Level"},
    "report_col_province": {"vi": "Tỉnh, thành phố", "en": "Province"},
    "report_col_commune": {"vi": "Xã, phường", "en": "Commune"},
    "report_col_registered": {"vi": "Người dùng", "en": "Registered users"},
    "report_col_new_users": {"vi": "Người dùng mới", "en": "New users"},
    "report_col_active_users": {"vi": "Người dùng hoạt động", "en": "Active users"},
    "report_col_questions": {"vi": "Câu hỏi", "en": "Questions"},
    "report_col_answered": {"vi": "Trả lời được", "en": "Answered"},
    "report_col_dont_know": {"vi": "Chưa trả lời được", "en": "Don't know"},
    "report_col_answered_share": {"vi": "Tỷ lệ trả lời được", "en": "Answered share"},
    "report_col_feedback_up": {"vi": "Phản hồi tốt", "en": "Helpful"},
    "report_col_feedback_down": {"vi": "Phản hồi chưa tốt", "en": "Not helpful"},
    "report_col_quiz_attempts": {"vi": "Lượt làm bài kiểm tra", "en": "Quiz attempts"},
    "report_col_quiz_passed": {"vi": "Lượt đạt", "en": "Passed"},
    "report_col_pass_rate": {"vi": "Tỷ lệ đạt", "en": "Pass rate"},
    "report_col_certificates": {"vi": "Chứng chỉ được cấp", "en": "Certificates issued"},
    "report_col_skilled": {"vi": "Có kỹ năng số cơ bản", "en": "With basic digital skills"},
    "report_col_skilled_share": {"vi": "Tỷ lệ có kỹ năng số cơ bản", "en": "Share with basic digital skills"},
    "report_col_elderly": {"vi": "Người cao tuổi", "en": "Elderly users"},
    "report_col_skilled_elderly": {"vi": "Người cao tuổi có kỹ năng số", "en": "Elderly with basic digital skills"},
    "report_col_elderly_skilled_share": {"vi": "Tỷ lệ trong người cao tuổi", "en": "Share among the elderly"},
    "report_col_broadcasts": {"vi": "Tin thông báo", "en": "Broadcasts"},
    "report_col_recipients": {"vi": "Lượt gửi", "en": "Deliveries"},
    "report_col_delivered": {"vi": "Đã gửi tới", "en": "Delivered"},
    "report_col_topic": {"vi": "Chủ đề", "en": "Topic"},
    "report_col_article": {"vi": "Bài viết", "en": "Article"},
    "report_col_times": {"vi": "Số lần trả lời", "en": "Times it answered"},
    "report_col_area": {"vi": "Nơi", "en": "Where"},
    "report_col_figure": {"vi": "Chỉ số", "en": "Figure"},
    "report_col_now": {"vi": "Kỳ này", "en": "This period"},
    "report_col_before": {"vi": "Kỳ trước", "en": "Previous period"},
    "report_col_change": {"vi": "Thay đổi", "en": "Change"},
    "report_chart_title": {
        "vi": "Tỷ lệ người dùng có kỹ năng số cơ bản: {region}, {period}",
        "en": "Share of users with basic digital skills: {region}, {period}",
    },
    "report_chart_all": {"vi": "Mọi người dùng", "en": "All users"},
    "report_chart_elderly": {"vi": "Người cao tuổi", "en": "Elderly users"},
    "report_chart_axis": {"vi": "Tỷ lệ (%)", "en": "Share (%)"},
    "report_chart_others": {
        "vi": "(hiển thị {shown} trong {n} xã, phường có nhiều người dùng nhất)",
        "en": "(the {shown} communes with the most users, of {n})",
    },
    # -- /broadcast in the chat (bot/broadcast_chat.py) --
    "bcast_citizen": {
        "vi": "Lệnh này dành cho tình nguyện viên và cán bộ gửi bài học cho bà con trong xã, phường. "
        "Nếu bạn muốn làm tình nguyện viên (ví dụ trong Tổ công nghệ số cộng đồng), hãy đăng ký với Đoàn Thanh niên "
        "hoặc Ủy ban nhân dân xã, phường nơi bạn ở; quản trị viên của trợ lý sẽ cấp quyền cho tài khoản này. "
        "Bạn vẫn có thể tự nhận bài học: gõ /subscribe.",
        "en": "This command is for volunteers and officials who send lessons to the people of their commune. "
        "If you would like to volunteer (for example in the community digital technology team), sign up with the "
        "Youth Union or the People's Committee of your commune or ward; the assistant's administrators then give "
        "this account the role. You can still get lessons yourself: type /subscribe.",
    },
    "bcast_no_region": {
        "vi": "Bạn là tình nguyện viên nhưng chưa được giao địa bàn. Nhờ quản trị viên giao tỉnh hoặc xã, phường cho "
        "bạn (/promote).",
        "en": "You are a volunteer but have no area yet. Ask an administrator to give you a province or communes "
        "(/promote).",
    },
    "bcast_pick": {
        "vi": "📣 Gửi tin cho bà con ({region}). Bạn muốn gửi gì? Chọn một chủ đề để xem các bài học, hoặc tự soạn "
        "tin (tin tự soạn cần quản trị viên duyệt trước khi gửi).",
        "en": "📣 Send to subscribers ({region}). What would you like to send? Choose a topic to see its lessons, or "
        "write your own text (a text of your own is sent once an administrator approves it).",
    },
    "bcast_pick_lesson": {"vi": "Bài học về {topic}:", "en": "Lessons on {topic}:"},
    "bcast_ask_text": {
        "vi": "Gõ nội dung tin cần gửi (một tin nhắn; đường link chỉ được dẫn tới trang chính thức như vneid.gov.vn, "
        "dichvucong.gov.vn). Gõ **thôi** để hủy.",
        "en": "Type the text to send (one message; links only to official sites such as vneid.gov.vn or "
        "dichvucong.gov.vn). Type **cancel** to stop.",
    },
    "bcast_text_empty": {"vi": "Tin trống: hãy gõ nội dung cần gửi.", "en": "The text is empty: type what to send."},
    "bcast_text_long": {
        "vi": "Tin dài {n} ký tự; {channel} chỉ nhận tối đa {limit} ký tự một tin. Hãy rút gọn rồi gửi lại.",
        "en": "The text is {n} characters long; {channel} takes at most {limit} in one message. Shorten it and send "
        "it again.",
        "en_one": "The text is {n} character long; {channel} takes at most {limit} in one message.",
    },
    "bcast_text_links": {
        "vi": "Tin có đường link không phải trang chính thức: {links}. Chỉ được dẫn tới trang chính thức mà tài liệu "
        "hướng dẫn dùng (như vneid.gov.vn, dichvucong.gov.vn). Hãy sửa rồi gửi lại.",
        "en": "The text links to a site that is not official: {links}. Only the official sites the guides cite "
        "(such as vneid.gov.vn or dichvucong.gov.vn) are allowed. Fix it and send it again.",
    },
    "bcast_text_secret": {
        "vi": "Tin có thông tin giống số định danh, mã OTP hoặc số tài khoản nên không được gửi đi. Hãy gõ lại tin "
        "không có thông tin đó.",
        "en": "The text holds what looks like an ID number, an OTP or an account number, so it cannot be sent. "
        "Type it again without it.",
    },
    "bcast_segment_menu": {
        "vi": "Gửi tới: {segment}\nSố người nhận lúc này: **{n}**.\nBấm để thay đổi, hoặc **Tiếp tục** để chọn thời gian.",
        "en": "To: {segment}\nRecipients right now: **{n}**.\nPress a button to change it, or **Continue** to choose "
        "the time.",
    },
    "bcast_segment": {
        "vi": "người đăng ký chủ đề {topics}; nơi ở: {place}; ngôn ngữ: {langs}; kênh: {channels}; tuổi: {ages}",
        "en": "subscribers of {topics}; where: {place}; language: {langs}; channel: {channels}; age: {ages}",
    },
    "bcast_any_topic": {"vi": "bất kỳ", "en": "any topic"},
    "bcast_everyone": {"vi": "tất cả", "en": "all"},
    "bcast_choose_topics": {"vi": "Gửi cho người đăng ký chủ đề nào?", "en": "Subscribers of which topic?"},
    "bcast_choose_langs": {"vi": "Gửi cho người dùng ngôn ngữ nào?", "en": "Which language?"},
    "bcast_choose_channels": {"vi": "Gửi qua kênh nào?", "en": "Which channel?"},
    "bcast_choose_ages": {"vi": "Gửi cho nhóm tuổi nào?", "en": "Which age group?"},
    "bcast_place_menu": {
        "vi": "Địa bàn của bạn: {region}. Gửi cho cả địa bàn, hay chỉ một số xã, phường?",
        "en": "Your area: {region}. Send to all of it, or only some communes?",
    },
    "bcast_ask_place": {
        "vi": 'Gõ tên xã, phường (nhiều nơi thì cách nhau bằng dấu chấm phẩy, ví dụ "Hoàn Kiếm; Ba Đình"), hoặc '
        '"tỉnh <tên tỉnh>". Có dấu hay không dấu đều được.',
        "en": 'Type the commune or ward (several separated by semicolons, e.g. "Hoan Kiem; Ba Dinh"), or '
        '"province <name>".',
    },
    "bcast_place_unknown": {
        "vi": "Không tìm thấy nơi {name}. ({problem})",
        "en": "No place found for {name}. ({problem})",
    },
    "bcast_outside_region": {
        "vi": "Nơi này nằm ngoài địa bàn của bạn ({region}). Bạn chỉ gửi được cho bà con trong địa bàn của mình; "
        "chưa có gì được tạo.",
        "en": "That place is outside your area ({region}). You can only send to people in your own area; nothing "
        "was created.",
    },
    "bcast_outside": {
        "vi": "Đối tượng này vượt ra ngoài địa bàn của bạn nên chưa có gì được tạo. ({problem})",
        "en": "That reaches outside your area, so nothing was created. ({problem})",
    },
    "bcast_nobody": {
        "vi": "Chưa có ai đăng ký nhận tin trong nhóm này nên chưa có gì được tạo. Hãy chọn nhóm rộng hơn.",
        "en": "Nobody in this group has subscribed, so nothing was created. Choose a wider group.",
    },
    "bcast_refused": {"vi": "Chưa tạo được: {problem}", "en": "Not created: {problem}"},
    "bcast_when": {"vi": "Khi nào gửi?", "en": "When should it go?"},
    "bcast_ask_at": {
        "vi": 'Gõ ngày giờ gửi (giờ Việt Nam), ví dụ "8/12 08:00" hoặc "2026-12-08 08:00".',
        "en": 'Type the date and time (Viet Nam time), e.g. "8/12 08:00" or "2026-12-08 08:00".',
    },
    "bcast_ask_weekly": {
        "vi": 'Gõ thứ và giờ gửi hằng tuần, ví dụ "t2 08:00" (thứ Hai) hoặc "cn 19:30" (Chủ nhật).',
        "en": 'Type the weekday and time, e.g. "mon 08:00" or "sun 19:30".',
    },
    "bcast_bad_at": {
        "vi": 'Chưa hiểu thời gian này. Hãy gõ như "8/12 08:00" hoặc "2026-12-08 08:00".',
        "en": 'I could not read that time. Type it like "8/12 08:00" or "2026-12-08 08:00".',
    },
    "bcast_past": {
        "vi": "Thời gian này đã qua. Hãy gõ một thời điểm sau bây giờ.",
        "en": "That time has passed. Type a time later than now.",
    },
    "bcast_bad_weekly": {
        "vi": 'Chưa hiểu. Hãy gõ thứ và giờ như "t2 08:00", "t7 09:00" hoặc "cn 19:30".',
        "en": 'I could not read that. Type a weekday and a time like "mon 08:00" or "sun 19:30".',
    },
    "bcast_when_now": {"vi": "ngay bây giờ", "en": "now"},
    "bcast_when_at": {"vi": "lúc {time} (giờ Việt Nam)", "en": "at {time} (Viet Nam time)"},
    "bcast_when_weekly": {"vi": "hằng tuần vào {day} lúc {clock}", "en": "every {day} at {clock}"},
    "bcast_weekdays": {
        "vi": "thứ Hai,thứ Ba,thứ Tư,thứ Năm,thứ Sáu,thứ Bảy,Chủ nhật",
        "en": "Monday,Tuesday,Wednesday,Thursday,Friday,Saturday,Sunday",
    },
    "bcast_what_lesson": {"vi": "bài học «{title}»", "en": "the lesson “{title}”"},
    "bcast_what_text": {"vi": "tin tự soạn", "en": "a text of your own"},
    "bcast_preview": {
        "vi": "**Xem trước**\nGửi: {what}\nTới: {segment}\nThời gian: {when}\nSố người nhận: **{n}** ({per})\n\n{text}",
        "en": "**Preview**\nSending: {what}\nTo: {segment}\nWhen: {when}\nRecipients: **{n}** ({per})\n\n{text}",
    },
    "bcast_needs_approval": {
        "vi": "Tin tự soạn sẽ được gửi sau khi quản trị viên duyệt.",
        "en": "A text of your own goes out once an administrator approves it.",
    },
    "bcast_created_sending": {
        "vi": "✅ Đã tạo tin #{id}: đang gửi tới {n} người.",
        "en": "✅ Broadcast #{id} created: sending to {n} people now.",
    },
    "bcast_created_at": {
        "vi": "✅ Đã tạo tin #{id}: sẽ gửi {when} (hiện có {n} người nhận).",
        "en": "✅ Broadcast #{id} created: it goes {when} (recipients now: {n}).",
    },
    "bcast_created_weekly": {
        "vi": "✅ Đã tạo lịch gửi #{id}: {when} (hiện có {n} người nhận).",
        "en": "✅ Weekly broadcast #{id} created: {when} (recipients now: {n}).",
    },
    "bcast_created_waiting": {
        "vi": "📨 Đã tạo tin #{id} và gửi cho quản trị viên duyệt. Thời gian gửi khi được duyệt: {when} "
        "(hiện có {n} người nhận); bạn sẽ được báo kết quả.",
        "en": "📨 Broadcast #{id} created and sent to the administrators for approval. Once approved it goes {when} "
        "(recipients now: {n}); you will be told.",
    },
    "bcast_cancelled": {"vi": "Đã hủy, chưa gửi gì.", "en": "Cancelled; nothing was sent."},
    "bcast_no_draft": {
        "vi": "Không còn tin nào đang soạn. Gõ /broadcast để bắt đầu lại.",
        "en": "There is no broadcast being made. Type /broadcast to start again.",
    },
    "bcast_status_usage": {
        "vi": "Cách xem kết quả: /broadcast status <số tin>, ví dụ /broadcast status 7",
        "en": "To see a report: /broadcast status <number>, e.g. /broadcast status 7",
    },
    "bcast_unknown_id": {"vi": "Không có tin #{id}.", "en": "There is no broadcast #{id}."},
    "bcast_not_yours": {
        "vi": "Tin #{id} không phải của bạn: chỉ người tạo và quản trị viên xem được kết quả.",
        "en": "Broadcast #{id} is not yours: only its author and the administrators see its report.",
    },
    "bcast_report": {
        "vi": "📊 Tin #{id} ({status}): {what}, {when}\nNgười nhận: {total}\nĐã gửi: {sent}\nĐang chờ gửi: {pending}\n"
        "Lỗi: {failed}\nĐã chặn trợ lý: {blocked}\nChưa rõ đã tới chưa: {uncertain}",
        "en": "📊 Broadcast #{id} ({status}): {what}, {when}\nRecipients: {total}\nSent: {sent}\nPending: {pending}\n"
        "Failed: {failed}\nBlocked the assistant: {blocked}\nUncertain: {uncertain}",
    },
    "bcast_report_offers": {
        "vi": "Chờ người nhận nhắn tin để mời đọc (Zalo OA chưa mở cửa sổ gửi): {offered}\n"
        "Đã tự lấy bài khi nhắn tin (tính trong Đã gửi): {pulled}",
        "en": "Offered, waiting for the user to write (no Zalo OA window open): {offered}\n"
        "Pulled when they wrote (counted in Sent): {pulled}",
    },
    "bcast_report_quiz": {
        "vi": "Đã làm bài kiểm tra của bài học sau khi nhận: {answered} (làm xong: {finished})",
        "en": "Answered the lesson's quiz after receiving it: {answered} (finished it: {finished})",
    },
    "bcast_report_run": {
        "vi": "  • {when}: đã gửi {sent}/{total}, làm bài kiểm tra: {answered}",
        "en": "  • {when}: sent {sent}/{total}, quiz answered: {answered}",
    },
    "bcast_report_rejected": {"vi": "Lý do từ chối: {reason}", "en": "Rejected because: {reason}"},
    "offer_lesson": {
        "vi": "📬 Có bài học mới từ Bình dân học vụ số: «{title}». Bấm «Bài tiếp theo» để đọc.",
        "en": "📬 A new lesson from Digital Literacy for All: “{title}”. Press “Next lesson” to read it.",
    },
    "offer_text": {
        "vi": "📬 Có tin mới từ Bình dân học vụ số. Bấm «Bài tiếp theo» để đọc.",
        "en": "📬 A new message from Digital Literacy for All. Press “Next lesson” to read it.",
    },
    "offer_many": {
        "vi": "📬 Có {n} bài mới từ Bình dân học vụ số. Bấm «Bài tiếp theo» để đọc lần lượt, bài cũ nhất trước.",
        "en": "📬 {n} new lessons from Digital Literacy for All. Press “Next lesson” to read them one at a time, "
        "oldest first.",
    },
    "offer_left": {
        "vi": "Còn {n} bài đang chờ bạn. Bấm «Bài tiếp theo» để đọc tiếp.",
        "en": "{n} more lessons are waiting for you. Press “Next lesson” to read the next one.",
        "en_one": "{n} more lesson is waiting for you. Press “Next lesson” to read it.",
    },
    "offer_none": {
        "vi": "Hiện không có bài học mới nào đang chờ bạn. Khi có, tôi sẽ báo lúc bạn nhắn tin.",
        "en": "No new lesson is waiting for you now. When one is, I will say so when you next write.",
    },
    "bcast_st_waiting": {"vi": "chờ duyệt", "en": "awaiting approval"},
    "bcast_st_rejected": {"vi": "bị từ chối", "en": "rejected"},
    "bcast_st_scheduled": {"vi": "đã hẹn giờ", "en": "scheduled"},
    "bcast_st_sending": {"vi": "đang gửi", "en": "sending"},
    "bcast_st_paused": {"vi": "tạm dừng", "en": "paused"},
    "bcast_st_cancelled": {"vi": "đã hủy", "en": "cancelled"},
    "bcast_st_done": {"vi": "đã gửi xong", "en": "done"},
    "bcast_admin_told": {
        "vi": "📨 Tin #{id} của {by} đang chờ bạn duyệt. Gõ /approvals để xem, /approve {id} để duyệt hoặc "
        "/reject {id} <lý do> để từ chối.",
        "en": "📨 Broadcast #{id} by {by} awaits your approval. Type /approvals to read it, /approve {id} to approve "
        "it or /reject {id} <reason> to reject it.",
    },
    "bcast_none_waiting": {"vi": "Không có tin nào chờ duyệt.", "en": "No text awaits approval."},
    "bcast_waiting_intro": {"vi": "Tin chờ duyệt: {n}", "en": "Awaiting approval: {n}"},
    "bcast_waiting_item": {
        "vi": "**#{id}** của {by}\nTới: {segment}\nThời gian: {when}\n\n{text}\n\nTừ chối: /reject {id} <lý do>",
        "en": "**#{id}** by {by}\nTo: {segment}\nWhen: {when}\n\n{text}\n\nTo reject: /reject {id} <reason>",
    },
    "bcast_approve_button": {"vi": "✅ Duyệt #{id}", "en": "✅ Approve #{id}"},
    "bcast_approve_usage": {"vi": "Cách dùng: /approve <số tin>", "en": "Usage: /approve <number>"},
    "bcast_reject_usage": {
        "vi": "Cách dùng: /reject <số tin> <lý do> (người soạn sẽ đọc lý do).",
        "en": "Usage: /reject <number> <reason> (its author will read the reason).",
    },
    "bcast_not_waiting": {
        "vi": "Tin #{id} không chờ duyệt (đang: {status}).",
        "en": "Broadcast #{id} is not awaiting approval ({status}).",
    },
    "bcast_approved_now": {
        "vi": "✅ Đã duyệt tin #{id}: đang gửi tới {n} người.",
        "en": "✅ Broadcast #{id} approved: sending to {n} people now.",
    },
    "bcast_approved_later": {
        "vi": "✅ Đã duyệt tin #{id}: sẽ gửi {when}.",
        "en": "✅ Broadcast #{id} approved: it goes {when}.",
    },
    "bcast_rejected": {
        "vi": "Đã từ chối tin #{id}; người soạn sẽ được báo lý do.",
        "en": "Broadcast #{id} rejected; its author will be told why.",
    },
    "bcast_author_approved": {
        "vi": "✅ Tin #{id} của bạn đã được duyệt. Xem kết quả: /broadcast status {id}",
        "en": "✅ Your broadcast #{id} was approved. Its report: /broadcast status {id}",
    },
    "bcast_author_rejected": {
        "vi": "Tin #{id} của bạn không được duyệt. Lý do: {reason}",
        "en": "Your broadcast #{id} was not approved. Reason: {reason}",
    },
    # -- /stats in the chat (bot/stats_chat.py) --
    "stats_citizen": {
        "vi": "Số liệu thống kê dành cho tình nguyện viên và cán bộ phụ trách địa bàn. Nếu bạn muốn làm tình "
        "nguyện viên, hãy đăng ký với Đoàn Thanh niên hoặc Ủy ban nhân dân xã, phường nơi bạn ở. Bạn có thể xem "
        "tiến độ học của chính mình: gõ /progress.",
        "en": "The figures are for volunteers and the officials in charge of an area. If you would like to "
        "volunteer, sign up with the Youth Union or the People's Committee of your commune or ward. You can see "
        "your own learning progress: type /progress.",
    },
    "stats_no_place": {"vi": "Không tìm thấy nơi này: {problem}", "en": "No such place: {problem}"},
    "stats_title": {"vi": "📊 **Số liệu kỹ năng số: {region}**", "en": "📊 **Digital skills figures: {region}**"},
    "stats_period": {
        "vi": "**{period}** (so với kỳ trước)\n"
        "• Người dùng: {registered} ({registered_change}); hoạt động: {active} ({active_change})\n"
        "• Câu hỏi trả lời được: {answered}; chưa trả lời được: {dont_know} (tỷ lệ trả lời {answered_share})\n"
        "• Có kỹ năng số cơ bản: {skilled} người, {skilled_share} ({skilled_change} điểm)\n"
        "• Người cao tuổi có kỹ năng số: {skilled_elderly}/{elderly} ({elderly_share})\n"
        "• Chứng chỉ cấp: {certificates} ({certificates_change})",
        "en": "**{period}** (against the previous period)\n"
        "• Users: {registered} ({registered_change}); active: {active} ({active_change})\n"
        "• Questions answered: {answered}; not answered: {dont_know} (answered share {answered_share})\n"
        "• With basic digital skills: {skilled}, {skilled_share} ({skilled_change} points)\n"
        "• Elderly with digital skills: {skilled_elderly}/{elderly} ({elderly_share})\n"
        "• Certificates issued: {certificates} ({certificates_change})",
    },
    "stats_chart_caption": {
        "vi": "Biểu đồ tháng này. Báo cáo đầy đủ (Excel, CSV): hocvu report trên máy chủ.",
        "en": "This month's chart. The full report (Excel, CSV): hocvu report on the server.",
    },
}

BUTTONS: dict[str, dict[str, str]] = {
    "step_by_step": {"vi": "▶️ Làm từng bước", "en": "▶️ Step by step"},
    "next": {"vi": "Bước tiếp ▶️", "en": "Next ▶️"},
    "previous": {"vi": "◀️ Bước trước", "en": "◀️ Back"},
    "repeat": {"vi": "🔁 Nhắc lại", "en": "🔁 Repeat"},
    "all_steps": {"vi": "📋 Xem tất cả bước", "en": "📋 Show all steps"},
    "full_text": {"vi": "📖 Xem đầy đủ", "en": "📖 Full text"},
    "next_lesson": {"vi": "📬 Bài tiếp theo", "en": "📬 Next lesson"},
    "lesson_quiz": {"vi": "📝 Làm bài kiểm tra", "en": "📝 Take the quiz"},
    "helpful": {"vi": "👍 Hữu ích", "en": "👍 Helpful"},
    "not_helpful": {"vi": "👎 Chưa đúng", "en": "👎 Not helpful"},
    "vi": {"vi": "🇻🇳 Tiếng Việt", "en": "🇻🇳 Tiếng Việt"},
    "en": {"vi": "🇬🇧 English", "en": "🇬🇧 English"},
    "end_handover": {"vi": "✅ Kết thúc", "en": "✅ End"},
    "final_test": {"vi": "🎓 Thi lấy chứng chỉ", "en": "🎓 Certificate test"},
    "review": {"vi": "📝 Ôn tập", "en": "📝 Review"},
    "continue_quiz": {"vi": "▶️ Làm tiếp", "en": "▶️ Continue"},
    "retry_final": {"vi": "🔁 Thi lại", "en": "🔁 Try again"},
    "practice": {"vi": "📝 Luyện tập", "en": "📝 Practise"},
    "another_quiz": {"vi": "➕ Làm bài khác", "en": "➕ Another quiz"},
    "delete_yes": {"vi": "🗑 Xóa hết", "en": "🗑 Delete everything"},
    "delete_no": {"vi": "Không, giữ lại", "en": "No, keep it"},
    "holder_skip": {"vi": "Bỏ qua", "en": "Skip"},
    "profile_start": {"vi": "📍 Cho biết nơi ở", "en": "📍 Tell where I live"},
    "profile_skip": {"vi": "Bỏ qua", "en": "Skip"},
    "profile_change": {"vi": "✏️ Đổi nơi ở", "en": "✏️ Change"},
    "profile_delete": {"vi": "🗑 Xóa nơi ở", "en": "🗑 Delete"},
    "age_u40": {"vi": "Dưới 40", "en": "Under 40"},
    "age_40_59": {"vi": "40 đến 59", "en": "40 to 59"},
    "age_60p": {"vi": "Từ 60 tuổi", "en": "60 and over"},
    "subscribe_all": {"vi": "✅ Tất cả chủ đề", "en": "✅ All topics"},
    "unsubscribe_all": {"vi": "⛔ Ngừng tất cả", "en": "⛔ Stop all"},
    "bcast_free_text": {"vi": "✍️ Tự soạn tin", "en": "✍️ Write my own text"},
    "bcast_cancel": {"vi": "❌ Hủy", "en": "❌ Cancel"},
    "bcast_back": {"vi": "◀️ Quay lại", "en": "◀️ Back"},
    "bcast_topics": {"vi": "📚 Chủ đề", "en": "📚 Topic"},
    "bcast_place": {"vi": "📍 Nơi ở", "en": "📍 Place"},
    "bcast_langs": {"vi": "🌐 Ngôn ngữ", "en": "🌐 Language"},
    "bcast_channels": {"vi": "💬 Kênh", "en": "💬 Channel"},
    "bcast_ages": {"vi": "👵 Tuổi", "en": "👵 Age"},
    "bcast_next": {"vi": "Tiếp tục ▶️", "en": "Continue ▶️"},
    "bcast_all": {"vi": "Tất cả", "en": "All"},
    "bcast_whole_region": {"vi": "Cả địa bàn của tôi", "en": "All my area"},
    "bcast_type_place": {"vi": "⌨️ Gõ tên xã, phường", "en": "⌨️ Type a commune"},
    "bcast_now": {"vi": "🚀 Gửi ngay", "en": "🚀 Now"},
    "bcast_at": {"vi": "⏰ Hẹn giờ", "en": "⏰ At a time"},
    "bcast_weekly": {"vi": "🔁 Hằng tuần", "en": "🔁 Weekly"},
    "bcast_confirm": {"vi": "✅ Xác nhận gửi", "en": "✅ Confirm"},
    "bcast_change": {"vi": "✏️ Sửa người nhận", "en": "✏️ Change recipients"},
    "bcast_see_report": {"vi": "📊 Xem kết quả", "en": "📊 See the report"},
}

SECRET_NAMES: dict[str, dict[str, str]] = {
    "citizen_id": {"vi": "số định danh/căn cước", "en": "an ID number"},
    "otp": {"vi": "mã OTP", "en": "an OTP code"},
    "password": {"vi": "mật khẩu", "en": "a password"},
    "card_number": {"vi": "số thẻ ngân hàng", "en": "a bank card number"},
    "account_number": {"vi": "số tài khoản", "en": "an account number"},
}


# English nouns change with the number ("1 question", "2 questions"); Vietnamese ones do not. An entry's
# "en_one" is its English text for a count of one: the count is `total` where the entry has one ("1 of 1
# question"), else `n`.
def t(key: str, lang: str, **values: object) -> str:
    entry = _TEXTS[key]
    text = entry.get(lang) or entry["vi"]
    if lang == "en" and "en_one" in entry and values.get("total", values.get("n")) == 1:
        text = entry["en_one"]
    return text.format(**values) if values else text


def help_text(lang: str, commands: Iterable[tuple[str, str]], *roles: tuple[str, Iterable[tuple[str, str]]]) -> str:
    """/help: the topics, then each (command, what it does) of everyone's; then, for volunteers and admins,
    their own under each (text key of its heading, commands)."""
    topics = "\n".join(f"• {topic.name(lang)}" for topic in TOPICS)
    parts = [t("help", lang, topics=topics, commands=command_lines(commands))]
    parts += [t(heading, lang, commands=command_lines(listed)) for heading, listed in roles]
    return "\n\n".join(parts)


def command_lines(commands: Iterable[tuple[str, str]]) -> str:
    return "\n".join(f"/{name} {summary[0].lower()}{summary[1:]}" for name, summary in commands)


def button_label(key: str, lang: str) -> str:
    entry = BUTTONS[key]
    return entry.get(lang) or entry["vi"]


def secret_names(kinds: tuple[str, ...], lang: str) -> str:
    names = [SECRET_NAMES[k].get(lang, SECRET_NAMES[k]["vi"]) for k in kinds]
    joiner = " và " if lang == "vi" else " and "
    return joiner.join(names)
