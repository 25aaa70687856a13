"""Outgoing email over SMTP (codes to the address on file, "was this you?" notices).

Settings: DESKGUARD_SMTP_HOST, _PORT, _FROM, _USERNAME, _PASSWORD, _STARTTLS. Never logs the
recipient or the body: callers log ids only.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from app.errors import DeskguardError
from app.settings import Settings


class MailUnavailable(DeskguardError):
    status_code = 503
    code = "mail_unavailable"


def send_mail(settings: Settings, to: str, subject: str, text: str) -> None:
    """Send one plain-text message; MailUnavailable (503) when the SMTP server cannot take it."""
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailUnavailable(f"the mail server did not accept the message ({type(exc).__name__})") from None
