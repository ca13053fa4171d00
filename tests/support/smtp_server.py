"""A real SMTP server for escalator's tests (aiosmtpd), with failure switches.

Usage: smtp_server.py PORT DIR [smtps|starttls CERT KEY]

With `smtps` the server speaks TLS from the first byte (implicit TLS); with
`starttls` it offers STARTTLS after EHLO. CERT and KEY are PEM files.

Every accepted message is written to DIR/messages/ as NAME.eml (the bytes
as received) and NAME.json (envelope and the decoded message: headers and
text parts), each written to a temporary name and renamed, the .json last.

Failures on demand:
- a recipient whose local part starts with `failNNN-` (e.g. `fail550-x@y`)
  is answered with reply code NNN;
- while DIR/control/reply exists, MAIL FROM is answered with its content
  (e.g. `451 try later`);
- while DIR/control/stall exists, the reply to the end of DATA waits.
"""

import asyncio
import email
import email.policy
import json
import os
import re
import ssl
import sys
import time
import uuid

from aiosmtpd.smtp import SMTP

FAIL_PREFIX = re.compile(r"^fail(\d{3})-")


class Handler:
    def __init__(self, root):
        self.messages = os.path.join(root, "messages")
        self.control = os.path.join(root, "control")
        os.makedirs(self.messages, exist_ok=True)
        os.makedirs(self.control, exist_ok=True)

    def switch(self, name):
        try:
            with open(os.path.join(self.control, name), encoding="utf-8") as file:
                return file.read().strip()
        except FileNotFoundError:
            return None

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        reply = self.switch("reply")
        if reply:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        match = FAIL_PREFIX.match(address)
        if match:
            return f"{match.group(1)} recipient {address} refused on request"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        while os.path.exists(os.path.join(self.control, "stall")):
            await asyncio.sleep(0.02)
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
        self.write(name + ".eml", raw)
        self.write(name + ".json", json.dumps(describe(envelope, raw)).encode("utf-8"))
        return f"250 OK queued as {name}"

    def write(self, name, data):
        temp = os.path.join(self.messages, "." + name + ".tmp")
        with open(temp, "wb") as file:
            file.write(data)
        os.rename(temp, os.path.join(self.messages, name))


def describe(envelope, raw):
    message = email.message_from_bytes(raw, policy=email.policy.default)
    parts = []
    for part in message.walk():
        if part.is_multipart():
            continue
        parts.append({"content_type": part.get_content_type(), "body": part.get_content()})
    return {
        "mail_from": envelope.mail_from,
        "rcpt_tos": list(envelope.rcpt_tos),
        "headers": [[name, str(value)] for name, value in message.items()],
        "content_type": message.get_content_type(),
        "parts": parts,
    }


async def main(port, root, tls):
    handler = Handler(root)
    loop = asyncio.get_running_loop()
    mode, context = None, None
    if tls:
        mode, cert, key = tls
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
    server = await loop.create_server(
        lambda: SMTP(
            handler,
            hostname="smtp.test",
            enable_SMTPUTF8=True,
            tls_context=context if mode == "starttls" else None,
        ),
        host="127.0.0.1",
        port=port,
        reuse_address=True,
        ssl=context if mode == "smtps" else None,
    )
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3:6]))
