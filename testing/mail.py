"""An SMTP handler for aiosmtpd's command line that holds each mail before accepting it.

Run as ``python -m aiosmtpd -n -l HOST:PORT -c testing.mail.HeldMail SECONDS``: every message is
accepted (and printed to standard output, as aiosmtpd's Debugging handler prints it, after a
``---------- MESSAGE FOLLOWS ----------`` line) only ``SECONDS`` after its DATA ends. A request
that sent its mail before answering would therefore take at least that long.
"""

import asyncio
from argparse import ArgumentParser
from typing import Any, Self

from aiosmtpd.handlers import Debugging

MESSAGE_FOLLOWS = "---------- MESSAGE FOLLOWS ----------"
"""The line aiosmtpd's Debugging handler prints before each message it accepts."""


class HeldMail(Debugging):
    """Debugging's handler, answering each DATA ``hold`` seconds late."""

    def __init__(self, hold: float) -> None:
        super().__init__()
        self.hold = hold

    @classmethod
    def from_cli(cls, parser: ArgumentParser, *args: str) -> Self:
        """The handler for ``-c testing.mail.HeldMail SECONDS``."""
        if len(args) != 1:
            parser.error("HeldMail usage: SECONDS")
        return cls(float(args[0]))

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Wait ``hold`` seconds, then print and accept the message."""
        await asyncio.sleep(self.hold)
        return await super().handle_DATA(server, session, envelope)
