"""pain.008 direct-debit files of any size, built by sepaxml in chunks (SPEC B3).

sepaxml keeps the whole document as an ElementTree until it exports it: 100,000 transactions
cost about 370 MB. `Pain008Writer` hands sepaxml one chunk of transactions at a time and writes
each chunk's payment-information blocks (`<PmtInf>`, with their own count and control sum, as
sepaxml made them) one after the other into a single document, under the group header of the
first chunk with the batch's message id and the totals of the whole file. A pain.008 may hold any number of `<PmtInf>`
blocks, so the file is what sepaxml would have made of all transactions at once, in more blocks;
`tests/billing/test_sepa_and_statements.py` validates it against the XSD. Memory stays at one
chunk, whatever the number of transactions.
"""

from __future__ import annotations

import re
from typing import BinaryIO
from xml.sax.saxutils import escape

from sepaxml import SepaDD
from sepaxml.utils import int_to_decimal_str

CHUNK_SIZE = 5000

_PMTINF_OPEN = b"<PmtInf>"
_PMTINF_CLOSE = b"</PmtInf>"
_GROUP_TOTALS = re.compile(rb"<NbOfTxs>\d+</NbOfTxs><CtrlSum>[0-9.]+</CtrlSum>")
# sepaxml makes up a message id in its constructor; the file carries the batch's own.
_MESSAGE_ID = re.compile(rb"<MsgId>[^<]*</MsgId>")


class Pain008Writer:
    """Writes one pain.008 document to `target` (a binary file) from chunks of sepaxml payments.
    `count` and `control_sum_cents` are the totals of every chunk that will be added."""

    def __init__(self, target: BinaryIO, *, config: dict, schema: str, message_id: str, count: int,
                 control_sum_cents: int):
        self.target = target
        self.config = config
        self.schema = schema
        self.message_id = message_id
        self.totals = (
            f"<NbOfTxs>{count}</NbOfTxs><CtrlSum>{int_to_decimal_str(control_sum_cents)}</CtrlSum>".encode()
        )
        self._tail = b""
        self._added = 0
        self._count = count

    def add(self, payments: list[dict]) -> None:
        """One chunk of payments in sepaxml's form (name, IBAN, amount in cents, type, …)."""
        if not payments:
            return
        sepa = SepaDD(self.config, schema=self.schema, clean=True)
        for payment in payments:
            sepa.add_payment(payment)
        xml = sepa.export(validate=False)
        start, end = xml.index(_PMTINF_OPEN), xml.rindex(_PMTINF_CLOSE) + len(_PMTINF_CLOSE)
        if not self._added:
            header, totals = _GROUP_TOTALS.subn(self.totals, xml[:start], count=1)
            header, ids = _MESSAGE_ID.subn(b"<MsgId>" + escape(self.message_id).encode() + b"</MsgId>", header, count=1)
            if (totals, ids) != (1, 1):  # pragma: no cover — sepaxml changed its group header
                raise RuntimeError("sepaxml's group header has no MsgId, NbOfTxs or CtrlSum to fill in")
            self.target.write(header)
            self._tail = xml[end:]
        self.target.write(xml[start:end])
        self._added += len(payments)

    def close(self) -> None:
        if self._added != self._count:
            raise RuntimeError(f"pain.008 announced {self._count} transactions but got {self._added}")
        self.target.write(self._tail)
