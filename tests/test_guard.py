from bot.guard import ACCOUNT, CARD, CITIZEN_ID, OTP, PASSWORD, scan


def test_citizen_id_number_is_redacted() -> None:
    result = scan("cccd của tôi là 079123456789, quên mật khẩu vneid")
    assert result.findings == (CITIZEN_ID,)
    assert "079123456789" not in result.text
    assert "quên mật khẩu vneid" in result.text


def test_id_number_with_spaces_is_redacted() -> None:
    result = scan("so dinh danh 079 123 456 789")
    assert CITIZEN_ID in result.findings
    assert "456" not in result.text


def test_otp_is_redacted() -> None:
    for text in ("mã OTP là 482913 có sao không", "ma xac thuc 4829", "My OTP is 193746", "482913"):
        result = scan(text)
        assert result.findings == (OTP,), text
        assert not any(ch.isdigit() for ch in result.text), text


def test_password_is_redacted_in_many_phrasings() -> None:
    for text, secret in (
        ("mật khẩu của tôi là Ngoc@2001 sao không vào được", "Ngoc@2001"),
        ("mk la abc12345", "abc12345"),
        ("my password is hunter2!", "hunter2!"),
        ("pass: Xuan#99", "Xuan#99"),
    ):
        result = scan(text)
        assert PASSWORD in result.findings, text
        assert secret not in result.text, text


def test_old_nine_digit_id_card_number_is_redacted() -> None:
    # CMND, the ID card before CCCD, has 9 digits: many elderly citizens still quote it.
    for text in ("số cmnd của tôi là 025123456", "CMND 025 123 456 het han roi", "chung minh nhan dan 123456789"):
        result = scan(text)
        assert result.findings == (CITIZEN_ID,), text
        assert not any(ch.isdigit() for ch in result.text), text


def test_card_number_is_redacted() -> None:
    result = scan("thẻ 4111 1111 1111 1111 bị trừ tiền")
    assert result.findings == (CARD,)
    assert "1111" not in result.text


def test_bank_account_number_is_redacted() -> None:
    result = scan("stk 19036655887012 chuyển nhầm")
    assert result.findings == (ACCOUNT,)
    assert "19036655887012" not in result.text


def test_account_numbers_after_stk_are_redacted_whatever_their_length() -> None:
    # Short account numbers and numbers starting with 0 look harmless on their own: the words before them
    # ("stk", "số tài khoản") are what makes them secret.
    for text, digits in (
        ("stk 12345678 bị khóa", "12345678"),
        ("stk cua toi 0123456789", "0123456789"),
        ("số tài khoản 0011002233 vietcombank", "0011002233"),
    ):
        result = scan(text)
        assert result.findings == (ACCOUNT,), text
        assert digits not in result.text, text


def test_harmless_numbers_are_kept() -> None:
    for text in (
        "chuyển 500000 đồng bị nhầm",
        "chuyển khoản trên 10.000.000 đ có cần sinh trắc học không",
        "năm 2024 có gì mới",
        "gọi 113 khi khẩn cấp",
        "vneid mức 2",
        "số điện thoại 0912345678 đổi rồi",
    ):
        assert scan(text).findings == (), text
        assert scan(text).text == text
