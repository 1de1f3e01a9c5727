#!/usr/bin/env python3
"""Send MongoDB wire-protocol commands (OP_MSG) and check that each answers ok:1.

Standard library only (no pymongo / mongosh needed).

    mongo_ping.py [--host 127.0.0.1] [--port 27017] [--timeout 2] [--db admin] [CMD ...]

CMD defaults to "hello". Each CMD is sent as {CMD: 1, $db: DB}. Exit 0 when every
command replied ok:1, else 1 with one line on stderr saying why.
"""
import argparse
import socket
import struct
import sys

OP_MSG = 2013


def bson_doc(fields):
    """Encode a flat dict of int/str values as a BSON document."""
    body = b""
    for key, value in fields.items():
        k = key.encode() + b"\x00"
        if isinstance(value, int):
            body += b"\x10" + k + struct.pack("<i", value)
        else:
            v = value.encode() + b"\x00"
            body += b"\x02" + k + struct.pack("<i", len(v)) + v
    return struct.pack("<i", len(body) + 5) + body + b"\x00"


# Fixed sizes of BSON element types we may have to skip (type -> size).
FIXED = {0x01: 8, 0x07: 12, 0x08: 1, 0x09: 8, 0x0A: 0, 0x10: 4, 0x11: 8, 0x12: 8, 0x13: 16, 0x7F: 0, 0xFF: 0}


def bson_top_level(doc):
    """Decode the top-level scalar fields of a BSON document (nested values are skipped)."""
    out, pos, end = {}, 4, struct.unpack_from("<i", doc)[0] - 1
    while pos < end:
        etype = doc[pos]
        nul = doc.index(b"\x00", pos + 1)
        name = doc[pos + 1:nul].decode()
        pos = nul + 1
        if etype == 0x01:
            out[name] = struct.unpack_from("<d", doc, pos)[0]
        elif etype == 0x10:
            out[name] = struct.unpack_from("<i", doc, pos)[0]
        elif etype == 0x12:
            out[name] = struct.unpack_from("<q", doc, pos)[0]
        elif etype == 0x08:
            out[name] = doc[pos] != 0
        elif etype == 0x02:
            out[name] = doc[pos + 4:pos + 4 + struct.unpack_from("<i", doc, pos)[0] - 1].decode("utf-8", "replace")
        if etype in FIXED:
            pos += FIXED[etype]
        elif etype in (0x02, 0x0D, 0x0E):  # string, JS code, symbol
            pos += 4 + struct.unpack_from("<i", doc, pos)[0]
        elif etype in (0x03, 0x04, 0x0F):  # document, array, code_w_scope
            pos += struct.unpack_from("<i", doc, pos)[0]
        elif etype == 0x05:  # binary
            pos += 5 + struct.unpack_from("<i", doc, pos)[0]
        elif etype == 0x0B:  # regex: two cstrings
            pos = doc.index(b"\x00", doc.index(b"\x00", pos) + 1) + 1
        elif etype == 0x0C:  # DBPointer
            pos += 4 + struct.unpack_from("<i", doc, pos)[0] + 12
        else:
            raise ValueError("unknown BSON type 0x%02x" % etype)
    return out


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed by server")
        buf += chunk
    return buf


def command(sock, request_id, name, db):
    payload = struct.pack("<I", 0) + b"\x00" + bson_doc({name: 1, "$db": db})
    sock.sendall(struct.pack("<iiii", 16 + len(payload), request_id, 0, OP_MSG) + payload)
    length, _, response_to, opcode = struct.unpack("<iiii", recv_exact(sock, 16))
    body = recv_exact(sock, length - 16)
    if opcode != OP_MSG or response_to != request_id:
        raise ValueError("unexpected reply (opcode %d, responseTo %d)" % (opcode, response_to))
    if body[4] != 0:
        raise ValueError("unexpected OP_MSG section kind %d" % body[4])
    return bson_top_level(body[5:])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=27017)
    ap.add_argument("--timeout", type=float, default=2.0, help="seconds, per socket operation")
    ap.add_argument("--db", default="admin")
    ap.add_argument("--quiet", "-q", action="store_true", help="print nothing on success")
    ap.add_argument("commands", nargs="*", default=["hello"])
    args = ap.parse_args()
    where = "%s:%d" % (args.host, args.port)
    try:
        with socket.create_connection((args.host, args.port), timeout=args.timeout) as sock:
            for i, name in enumerate(args.commands, start=1):
                reply = command(sock, i, name, args.db)
                if reply.get("ok") != 1:
                    msg = reply.get("errmsg", "no errmsg")
                    print("mongo_ping: %s: %s -> ok=%r: %s" % (where, name, reply.get("ok"), msg), file=sys.stderr)
                    return 1
                if not args.quiet:
                    extra = ""
                    if "maxWireVersion" in reply:
                        extra = " (maxWireVersion %d)" % reply["maxWireVersion"]
                    print("mongo_ping: %s: %s ok%s" % (where, name, extra))
    except (OSError, ValueError, IndexError, struct.error) as exc:
        print("mongo_ping: %s: %s" % (where, exc or type(exc).__name__), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
