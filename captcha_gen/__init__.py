"""captcha_gen: adversarial CAPTCHAs that people read and breaking algorithms misread."""
