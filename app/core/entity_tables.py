"""Reference data for entity extraction: TLDs, public suffixes, IBAN lengths, currencies, keywords.

Compact, built in and offline on purpose (no tldextract, no downloaded Public Suffix List). The
TLD set is every ISO 3166 country-code TLD plus the generic TLDs that show up in real tickets and in
phishing; the suffix set is the multi-part public suffixes that decide an eTLD+1 in practice.
"""

from __future__ import annotations

_CC_TLDS = """
ac ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo br bs bt bw
by bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk dm do dz ec ee eg er es et
eu fi fj fk fm fo fr ga gd ge gf gg gh gi gl gm gn gp gq gr gs gt gu gw gy hk hm hn hr ht hu id ie
il im in io iq ir is it je jm jo jp ke kg kh ki km kn kp kr kw ky kz la lb lc li lk lr ls lt lu lv
ly ma mc md me mg mh mk ml mm mn mo mp mq mr ms mt mu mv mw mx my mz na nc ne nf ng ni nl no np nr
nu nz om pa pe pf pg ph pk pl pm pn pr ps pt pw py qa re ro rs ru rw sa sb sc sd se sg sh si sk sl
sm sn so sr ss st su sv sx sy sz tc td tf tg th tj tk tl tm tn to tr tt tv tw tz ua ug uk us uy uz
va vc ve vg vi vn vu wf ws ye yt za zm zw
"""

_GENERIC_TLDS = """
com net org info biz edu gov mil int name mobi pro aero coop museum jobs travel tel asia cat
app dev tech online site store shop xyz top club cloud digital email support help services
solutions live life world today news blog space website one link click page agency company
business global group network systems software zone center team work works tools finance money
bank insurance capital credit cards pay security host hosting domains icu vip win bid loan xin
buzz rest fun lol quest cfd sbs best guru ltd llc inc gmbh zip mov
"""

TLDS: frozenset[str] = frozenset((_CC_TLDS + _GENERIC_TLDS).split())

# TLDs that are also common file extensions: "invoice.zip", "setup.py", "README.md" are files. A bare
# name ending in one of these is reported as a domain only with at least three labels
# (files.acme.sh); inside a URL or an email address it is always a host.
FILE_EXTENSION_TLDS: frozenset[str] = frozenset(("zip", "mov", "py", "md", "rs", "ps", "pl", "sh", "so", "ml"))

# Multi-part public suffixes (the registrable domain is one label more), plus a few shared-hosting
# suffixes where every customer gets its own subdomain (acme.github.io belongs to whoever made it).
MULTI_PART_SUFFIXES: frozenset[str] = frozenset(
    (
        "co.uk", "org.uk", "ac.uk", "gov.uk", "me.uk", "ltd.uk", "plc.uk", "net.uk", "sch.uk", "nhs.uk",
        "police.uk", "com.au", "net.au", "org.au", "edu.au", "gov.au", "asn.au", "id.au", "co.nz", "org.nz",
        "net.nz", "govt.nz", "ac.nz", "co.jp", "ne.jp", "or.jp", "ac.jp", "go.jp", "com.br", "net.br", "org.br",
        "gov.br", "com.mx", "org.mx", "gob.mx", "net.mx", "co.in", "net.in", "org.in", "gov.in", "firm.in",
        "co.za", "org.za", "gov.za", "com.ar", "gob.ar", "com.tr", "gov.tr", "com.cn", "net.cn", "org.cn",
        "gov.cn", "com.hk", "com.sg", "com.my", "com.tw", "com.ph", "com.pk", "com.ng", "com.eg", "com.sa",
        "com.co", "com.pe", "com.ve", "com.ec", "com.uy", "com.ua", "com.vn", "co.kr", "or.kr", "co.il",
        "co.id", "co.th", "ac.th", "co.ke", "co.at", "or.at", "github.io", "gitlab.io", "herokuapp.com",
        "netlify.app", "vercel.app", "pages.dev", "workers.dev", "web.app", "firebaseapp.com", "appspot.com",
        "azurewebsites.net", "blogspot.com", "cloudfront.net",
    )
)  # fmt: skip

# ISO 13616 IBAN lengths by country (SWIFT IBAN registry).
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip

# Currency symbols and words -> ISO 4217 code. "$" alone is read as USD.
CURRENCY_SYMBOLS: dict[str, str] = {
    "US$": "USD", "CA$": "CAD", "C$": "CAD", "AU$": "AUD", "A$": "AUD", "NZ$": "NZD", "HK$": "HKD",
    "R$": "BRL", "$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "₽": "RUB", "₩": "KRW",
    "₺": "TRY", "₪": "ILS", "₦": "NGN", "zł": "PLN",
}  # fmt: skip
CURRENCY_CODES: frozenset[str] = frozenset(
    (
        "USD", "EUR", "GBP", "CAD", "AUD", "NZD", "CHF", "JPY", "CNY", "INR", "BRL", "MXN", "SEK", "NOK", "DKK",
        "PLN", "CZK", "HUF", "ZAR", "TRY", "RUB", "HKD", "SGD", "AED", "SAR", "ILS", "KRW", "ARS", "COP", "CLP",
        "PHP", "NGN", "KES",
    )
)  # fmt: skip
CURRENCY_WORDS: dict[str, str] = {
    "euro": "EUR", "euros": "EUR", "dollar": "USD", "dollars": "USD", "pound": "GBP",
    "pounds": "GBP", "reais": "BRL", "yen": "JPY", "rupee": "INR", "rupees": "INR",
    "francs": "CHF", "dólares": "USD", "dolares": "USD",
}  # fmt: skip

# Words that introduce an order / ticket reference (lower case; spaces match any whitespace).
ORDER_KEYWORDS: tuple[str, ...] = (
    "purchase order", "order", "ticket", "case", "invoice", "rma", "tracking", "reference",
    "booking", "reservation", "número de pedido", "numero de pedido", "numéro de commande",
    "numero de commande", "pedido", "commande", "bestellung", "bestellnummer", "auftrag",
    "auftragsnummer", "ordine", "encomenda", "bestelling", "factura", "facture", "rechnung",
)  # fmt: skip
# Words that introduce an account / customer / user reference.
ACCOUNT_KEYWORDS: tuple[str, ...] = (
    "account number", "account no", "account id", "account", "acct", "customer number",
    "customer id", "customer no", "customer", "client id", "client number", "member id",
    "membership number", "user id", "userid", "employee id", "employee number", "staff id",
    "número de cuenta", "numero de cuenta", "número de cliente", "numero de cliente",
    "numéro de compte", "numero de compte", "numéro client", "numéro de client", "kontonummer",
    "kundennummer", "mitgliedsnummer", "benutzer-id", "cuenta", "compte", "konto",
)  # fmt: skip
