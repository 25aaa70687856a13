"""Convert the development data in ../shared/data/benign into labelled evaluation cases (JSON lines).

Banking77 (CC BY 4.0) and the Bitext customer-support sample (CDLA-Sharing-1.0) are real customer
requests: every case is `benign`. Each is written as a ticket from the contact on file (the customer
writes from the address the company has), which is how these requests reach a real desk. Categories
that ask for an account action from the vocabulary carry `expect_actions`; categories that ask for no
account action carry an empty list; ambiguous ones (e.g. "edit my details") carry none. The hard
subset (passwords, 2FA and lost phones, account changes) is marked with group `hard:<category>`.

    python eval/datasets/convert.py --shared ../shared --out var/eval

writes benign.jsonl and copies the licences beside it.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# category -> expected actions (None: not labelled); HARD marks the hard subset.
BANKING77 = {
    "passcode_forgotten": ["password_reset"],
    "terminate_account": ["account_deletion"],
    "edit_personal_details": None,
    "lost_or_stolen_phone": None,
    "change_pin": None,
    "pin_blocked": None,
    "unable_to_verify_identity": None,
    "verify_my_identity": None,
    "why_verify_identity": None,
    "compromised_card": None,
    "lost_or_stolen_card": None,
}
BITEXT = {
    "recover_password": ["password_reset"],
    "delete_account": ["account_deletion"],
    "change_shipping_address": ["address_change"],
    "set_up_shipping_address": ["address_change"],
    "edit_account": None,
    "switch_account": None,
    "registration_problems": None,
}
HARD = {
    "passcode_forgotten", "terminate_account", "edit_personal_details", "lost_or_stolen_phone", "change_pin",
    "pin_blocked", "recover_password", "delete_account", "change_shipping_address", "set_up_shipping_address",
    "edit_account",
}
ACCOUNT_EMAIL = "customer@example.com"


def _case(source: str, index: int, text: str, category: str, actions: list[str] | None) -> dict[str, Any]:
    account = {"id": f"{source}-acct", "name": "", "emails": [ACCOUNT_EMAIL], "phones": ["+14155550100"]}
    return {
        "id": f"{source}-{index}",
        "label": "benign",
        "language": "en",
        "group": f"hard:{category}" if category in HARD else category,
        "expect_actions": actions,
        "ticket": {"ticket_id": f"{source}-{index}", "channel": "email",
                   "messages": [{"author": "requester", "body": text}],
                   "requester": {"email": ACCOUNT_EMAIL}, "account": account},
    }


def banking77(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        for i, row in enumerate(csv.DictReader(f)):
            actions = BANKING77.get(row["category"], [])
            yield _case("banking77", i, row["text"], row["category"], actions)


def bitext(path: Path) -> Iterator[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for i, row in enumerate(csv.DictReader(f)):
            actions = BITEXT.get(row["intent"], [])
            yield _case("bitext", i, row["instruction"], row["intent"], actions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[3] / "shared")
    parser.add_argument("--out", type=Path, default=Path("var/eval"))
    parser.add_argument("--sample", type=int, default=0, help="keep a seeded random sample of N cases")
    args = parser.parse_args()
    benign = args.shared / "data" / "benign"
    args.out.mkdir(parents=True, exist_ok=True)
    cases = list(banking77(benign / "banking77_train.csv")) + list(bitext(benign / "bitext_sample.csv.gz"))
    if args.sample:
        cases = random.Random(77).sample(cases, min(args.sample, len(cases)))  # noqa: S311 - a reproducible sample
    with (args.out / "benign.jsonl").open("w", encoding="utf-8") as f:
        for case in cases:
            f.write(json.dumps(case) + "\n")
    for name in ("banking77_LICENSE", "bitext_LICENSE.txt"):
        shutil.copy(benign / name, args.out / name)
    (args.out / "SOURCES.md").write_text(
        "benign.jsonl is derived by eval/datasets/convert.py from Banking77 (train split, CC BY 4.0,\n"
        "banking77_LICENSE) and the Bitext customer-support sample (CDLA-Sharing-1.0, bitext_LICENSE.txt).\n",
        encoding="utf-8",
    )
    print(f"{len(cases)} cases written to {args.out / 'benign.jsonl'}")


if __name__ == "__main__":
    main()
