import unicodedata

from language.normalize import detect_lang, expand_abbreviations, fold, lexical_terms, normalize, to_nfc


def test_nfd_input_equals_nfc_input() -> None:
    nfc = "Đăng ký tài khoản định danh điện tử mức 2"
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfd != nfc
    assert normalize(nfd).clean == normalize(nfc).clean
    assert normalize(nfd).folded == normalize(nfc).folded


def test_folding_removes_diacritics_and_d_bar() -> None:
    assert fold("Đăng ký ĐỊNH DANH điện tử") == "dang ky dinh danh dien tu"


def test_control_characters_and_zero_width_spaces_are_removed() -> None:
    assert to_nfc("quên\u200b mật\x00khẩu\t\n vneid") == "quên mật khẩu vneid"


def test_chat_abbreviations_expand_to_words() -> None:
    assert expand_abbreviations("ko nhan dc ma otp") == "không nhan được ma otp"
    assert expand_abbreviations("quên mk tk vneid thì lm j") == "quên mật khẩu tài khoản vneid thì làm gì"
    assert expand_abbreviations("sđt đổi rồi đk lại ntn") == "số điện thoại đổi rồi đăng ký lại như thế nào"
    assert expand_abbreviations("cccd gplx bhyt lltp dvc ck") == (
        "căn cước công dân giấy phép lái xe bảo hiểm y tế lý lịch tư pháp dịch vụ công chuyển khoản"
    )


def test_words_typed_with_their_own_diacritics_are_not_expanded() -> None:
    # "gì" is a word already; only the bare abbreviation "j"/"gi" is expanded.
    assert expand_abbreviations("là gì") == "là gì"


def test_spoken_forms_typed_with_their_marks_are_read_as_the_word_meant() -> None:
    assert expand_abbreviations("hông thấy mã gửi về là sao dzậy") == "không thấy mã gửi về là sao vậy"
    # Unmarked, "hong" may be "hỏng" (broken): left alone.
    assert expand_abbreviations("dien thoai hong roi") == "dien thoai hong roi"


def test_ambiguous_abbreviations_are_read_from_the_next_or_previous_word() -> None:
    assert expand_abbreviations("bn tien thi phai quet mat") == "bao nhiêu tien thi phai quet mat"
    assert expand_abbreviations("bn oi cho hoi") == "bạn oi cho hoi"
    assert expand_abbreviations("hoa don tien nc thang nay") == "hoa don tien nước thang nay"
    assert expand_abbreviations("muon nc voi ad") == "muon nói chuyện voi ad"
    assert expand_abbreviations("chung chi cua mk dau") == "chung chi cua mình dau"
    assert expand_abbreviations("quen mk vneid") == "quen mật khẩu vneid"


def test_acronyms_and_app_names_as_voice_typing_writes_them() -> None:
    assert expand_abbreviations("quên mật khẩu vê en ê ai đi") == "quên mật khẩu vneid"
    assert expand_abbreviations("mã ô tê pê không về") == "mã otp không về"
    assert expand_abbreviations("quét mã cu a bằng da lô") == "quét mã qr bằng zalo"
    assert expand_abbreviations("bật ba gờ bốn gờ với quai phai") == "bật 3g 4g với wifi"
    assert expand_abbreviations("thẻ cờ rét đít giấu số xê vê vê") == "thẻ credit giấu số cvv"
    # VNeID said without its E, A said the English way ("ê"), Q as "qui"; passcode and smart as heard.
    assert expand_abbreviations("mã pát cốt vi en ai đi") == "mã passcode vneid"
    assert expand_abbreviations("tệp ê pê ca với mã qui a") == "tệp apk với mã qr"
    assert expand_abbreviations("cài xờ mát ô tê pê") == "cài smart otp"
    # Southern speech as voice typing writes it.
    assert expand_abbreviations("chuyển tiền dìa rồi bấm dô") == "chuyển tiền về rồi bấm vô"
    # Letter names that spell no known term stay words: "ai đi" is "who goes", not "ID".
    assert expand_abbreviations("ai đi cùng bà ba") == "ai đi cùng bà ba"


def test_language_detection() -> None:
    assert detect_lang("cách đăng ký vneid") == "vi"
    assert detect_lang("cach dang ky vneid muc 2") == "vi"
    assert detect_lang("ko nhan dc otp") == "vi"
    assert detect_lang("how do I register for VNeID level 2") == "en"
    assert detect_lang("😀😀", default="en") == "en"


def test_normalized_forms_agree_with_and_without_diacritics() -> None:
    a = normalize("Quên mật khẩu VNeID")
    b = normalize("quen mat khau vneid")
    assert a.folded == b.folded == "quen mat khau vneid"


def test_lexical_terms_add_bigrams() -> None:
    assert lexical_terms(["dang", "ky", "vneid"]) == ["dang", "ky", "vneid", "dang_ky", "ky_vneid"]


def test_emoji_and_punctuation_only_normalise_to_empty() -> None:
    assert normalize("😀🙏 ... !!!").is_empty
    assert normalize("   ").is_empty
