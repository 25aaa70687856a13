"""Free-mail and disposable-mail providers.

A requester writing from a free-mail address while claiming to be staff, or from a disposable
address at all, is a signal. Both lists are curated, built in and offline; they name real
providers, with the country variants that show up in tickets.
"""

from __future__ import annotations

from app.core.entities import email_domain, registrable_domain

FREE_MAIL_DOMAINS: frozenset[str] = frozenset(
    (
        "gmail.com", "googlemail.com", "outlook.com", "outlook.fr", "outlook.de", "outlook.es", "outlook.it",
        "outlook.jp", "outlook.com.br", "hotmail.com", "hotmail.co.uk", "hotmail.fr", "hotmail.de",
        "hotmail.it", "hotmail.es", "hotmail.nl", "hotmail.be", "hotmail.ca", "hotmail.com.br",
        "hotmail.com.ar", "hotmail.co.jp", "live.com", "live.co.uk", "live.fr", "live.nl", "live.de", "live.it",
        "live.ca", "live.com.au", "live.com.mx", "msn.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de",
        "yahoo.es", "yahoo.it", "yahoo.ca", "yahoo.com.au", "yahoo.co.in", "yahoo.co.jp", "yahoo.com.br",
        "yahoo.com.mx", "yahoo.com.ar", "ymail.com", "rocketmail.com", "icloud.com", "me.com", "mac.com",
        "aol.com", "aim.com", "proton.me", "protonmail.com", "protonmail.ch", "pm.me", "gmx.com", "gmx.de",
        "gmx.net", "gmx.at", "gmx.ch", "gmx.fr", "web.de", "t-online.de", "freenet.de", "posteo.de",
        "posteo.net", "mailbox.org", "mail.ru", "bk.ru", "inbox.ru", "list.ru", "yandex.ru", "yandex.com",
        "yandex.ua", "yandex.kz", "ya.ru", "rambler.ru", "zoho.com", "zohomail.com", "tutanota.com",
        "tutanota.de", "tuta.io", "tuta.com", "tutamail.com", "hey.com", "fastmail.com", "fastmail.fm",
        "duck.com", "startmail.com", "runbox.com", "hushmail.com", "qq.com", "163.com", "126.com", "yeah.net",
        "sina.com", "sina.cn", "sohu.com", "aliyun.com", "naver.com", "daum.net", "hanmail.net", "mail.com",
        "email.com", "usa.com", "gmx.us", "laposte.net", "orange.fr", "wanadoo.fr", "free.fr", "sfr.fr",
        "libero.it", "virgilio.it", "tiscali.it", "seznam.cz", "wp.pl", "o2.pl", "interia.pl", "onet.pl",
        "rediffmail.com", "uol.com.br", "bol.com.br", "btinternet.com", "sky.com", "virginmedia.com",
        "comcast.net", "att.net", "sbcglobal.net", "verizon.net", "cox.net", "bellsouth.net", "shaw.ca",
        "rogers.com", "sympatico.ca", "bigpond.com", "optusnet.com.au", "xtra.co.nz",
    )
)  # fmt: skip

DISPOSABLE_MAIL_DOMAINS: frozenset[str] = frozenset(
    (
        "mailinator.com", "guerrillamail.com", "guerrillamail.net", "guerrillamail.org", "guerrillamail.de",
        "guerrillamailblock.com", "sharklasers.com", "grr.la", "pokemail.net", "spam4.me", "10minutemail.com",
        "10minutemail.net", "temp-mail.org", "temp-mail.io", "tempmail.com", "tempmail.net", "yopmail.com",
        "yopmail.fr", "yopmail.net", "throwawaymail.com", "trashmail.com", "trashmail.de", "trashmail.net",
        "getnada.com", "dispostable.com", "maildrop.cc", "mailnesia.com", "mintemail.com", "mohmal.com",
        "fakeinbox.com", "spamgourmet.com", "mailcatch.com", "emailondeck.com", "tempr.email", "discard.email",
        "mytemp.email", "tempail.com", "burnermail.io", "moakt.com", "33mail.com", "mailpoof.com",
        "getairmail.com", "inboxkitten.com", "1secmail.com", "1secmail.net", "tempinbox.com", "emailfake.com",
    )
)  # fmt: skip


def _host(domain_or_email: str) -> str:
    s = domain_or_email.strip()
    return email_domain(s) if "@" in s else s.lower().rstrip(".")


def is_free_mail(domain: str) -> bool:
    """True for a free-mail provider's domain (or an address at one): ``Jane@GMail.com`` -> True."""
    host = _host(domain)
    return bool(host) and (host in FREE_MAIL_DOMAINS or registrable_domain(host) in FREE_MAIL_DOMAINS)


def is_disposable(domain: str) -> bool:
    """True for a disposable-mail domain, its subdomains, or an address at one."""
    host = _host(domain)
    labels = host.split(".")
    return any(".".join(labels[i:]) in DISPOSABLE_MAIL_DOMAINS for i in range(len(labels) - 1))
