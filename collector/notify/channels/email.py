"""E-mail over SMTP: STARTTLS (or implicit TLS) with the server's certificate verified, then AUTH.

One message per batch, multipart/alternative: the text template and the HTML template. The connection
is never downgraded: a server that does not offer STARTTLS is a failed delivery, not a clear-text one.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from collector.notify.channels.base import Channel
from collector.notify.delivery import DeliveryError
from collector.notify.settings import EmailChannel
from collector.notify.templates import Message


class Email(Channel):
    formats = ("subject", "text", "html")

    def __init__(self, settings: EmailChannel, secrets, session_factory) -> None:
        super().__init__(settings, secrets, session_factory)
        self.config = settings
        self.password = secrets.get(settings.password, "password")
        self.sender = settings.sender or f"patrol@{socket.getfqdn()}"
        self.context = ssl.create_default_context(cafile=str(settings.ca_file) if settings.ca_file else None)

    def mail(self, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["Subject"] = message.subject
        mail["From"] = self.sender
        mail["To"] = ", ".join(self.config.to)
        mail["Date"] = formatdate(localtime=True)
        mail["Message-ID"] = f"<{message.id}@patrol>"  # the same on every retry: mail clients de-duplicate
        mail["X-Patrol-Severity"] = message.worst
        mail.set_content(message.text)
        mail.add_alternative(message.html, subtype="html")
        return mail

    def send(self, message: Message) -> None:
        self.deliver(self.mail(message))

    def deliver(self, mail: EmailMessage) -> None:
        """Send one prepared message (a notice batch, or a report with its files attached)."""
        c = self.config
        try:
            if c.tls == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(c.smtp_host, c.smtp_port, timeout=self.timeout,
                                                      context=self.context)
            else:
                smtp = smtplib.SMTP(c.smtp_host, c.smtp_port, timeout=self.timeout)
            with smtp:
                if c.tls == "starttls":
                    smtp.starttls(context=self.context)
                if c.username is not None:
                    self.login(smtp)
                refused = smtp.send_message(mail)
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(f"the SMTP server does not support this: {exc}", retry=False) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"SMTP login refused: {_smtp_text(exc)}", retry=False) from None
        except smtplib.SMTPRecipientsRefused as exc:
            detail = "; ".join(f"{to}: {_smtp_text(err)}" for to, err in exc.recipients.items())
            raise DeliveryError(f"every recipient refused: {detail}", retry=False) from None
        except smtplib.SMTPSenderRefused as exc:
            raise DeliveryError(f"sender {exc.sender} refused: {_smtp_text(exc)}", retry=exc.smtp_code < 500) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"SMTP {_smtp_text(exc)}", retry=exc.smtp_code < 500) from None
        except ssl.SSLCertVerificationError as exc:
            raise DeliveryError(f"the SMTP server's certificate is not trusted: {exc.verify_message}",
                                retry=False) from None
        except TimeoutError:
            raise DeliveryError(f"no answer within {self.timeout:g} s") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"SMTP failure: {exc.__class__.__name__}: {exc}") from None
        if refused:
            detail = "; ".join(f"{to}: {_smtp_text(err)}" for to, err in refused.items())
            raise DeliveryError(f"delivered, but these recipients were refused: {detail}", retry=False)

    def login(self, smtp: smtplib.SMTP) -> None:
        # PLAIN inside TLS is what submission servers offer; smtplib's login() would go on to try every
        # other mechanism after a refusal, and some servers never answer those.
        smtp.ehlo_or_helo_if_needed()
        if "PLAIN" in smtp.esmtp_features.get("auth", "").upper().split():
            smtp.user, smtp.password = self.config.username or "", self.password or ""
            smtp.auth("PLAIN", smtp.auth_plain)
        else:
            smtp.login(self.config.username or "", self.password or "")


def _smtp_text(error) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        code, text = error.smtp_code, error.smtp_error
    else:
        code, text = error
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return f"{code} {' '.join(str(text).split())}"
