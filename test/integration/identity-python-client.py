"""A pod's view of the NMI through Debian's python3-azure: the unmodified azure.identity
ManagedIdentityCredential asks for one token and prints the outcome as one JSON line.

Run by identity-python.test.ts. SAFETY (CONTRACTS.md section 7): the machine has a route to a
real 169.254.169.254, so before azure.identity is imported every socket connect is checked and
anything but loopback is refused and reported; AZURE_POD_IDENTITY_AUTHORITY_HOST is set by the
caller before the credential exists (this azure-identity then skips its IMDS probe), and
retries are off. PODSEC_SOURCE_IP binds each connection to the pod's address, as a pod's own
traffic would come from it (the NMI tells pods apart by source address only).

argv: scope [client_id], or --guard-self-test (a TEST-NET address must be refused)
"""
import json
import os
import socket
import sys

BLOCKED = []
SOURCE_IP = os.environ.get("PODSEC_SOURCE_IP", "")
_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex


def _is_loopback(address):
    host = address[0] if isinstance(address, tuple) else address
    if not isinstance(host, str):
        return False
    return host == "localhost" or host == "::1" or host.startswith("127.")


def _prepare(sock, address):
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return  # Unix sockets never leave the machine
    if not _is_loopback(address):
        BLOCKED.append(str(address[0] if isinstance(address, tuple) else address))
        raise OSError("test guard: blocked non-loopback connection to %r" % (address,))
    if SOURCE_IP and sock.family == socket.AF_INET:
        sock.bind((SOURCE_IP, 0))


def _guarded_connect(self, address):
    _prepare(self, address)
    return _connect(self, address)


def _guarded_connect_ex(self, address):
    _prepare(self, address)
    return _connect_ex(self, address)


socket.socket.connect = _guarded_connect
socket.socket.connect_ex = _guarded_connect_ex


def guard_self_test():
    try:
        socket.create_connection(("192.0.2.1", 80), timeout=1).close()
        connected = True
    except OSError:
        connected = False
    print(json.dumps({"ok": not connected, "blocked": BLOCKED}))


def main():
    if sys.argv[1:] == ["--guard-self-test"]:
        guard_self_test()
        return
    if not os.environ.get("AZURE_POD_IDENTITY_AUTHORITY_HOST", "").startswith("http://127."):
        print(json.dumps({"ok": False, "type": "Setup", "message": "authority host not on loopback"}))
        return
    from azure.identity import ManagedIdentityCredential

    scope = sys.argv[1]
    kwargs = {"retry_total": 0}
    if len(sys.argv) > 2:
        kwargs["client_id"] = sys.argv[2]
    credential = ManagedIdentityCredential(**kwargs)
    try:
        token = credential.get_token(scope)
        out = {"ok": True, "token": token.token, "expires_on": token.expires_on}
    except Exception as ex:  # the test asserts on the type and message
        out = {"ok": False, "type": type(ex).__name__, "message": str(ex)}
    out["blocked"] = BLOCKED
    print(json.dumps(out))


main()
