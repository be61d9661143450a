"""What the observer infers a message is from its size and its two ends alone.

Sizes (papers/network-spec.md §3, `core/src/wire.cpp`): every ZeroMQ message is one frame
`type (1) ‖ body`, so the plaintext sizes are

    PACKET        1 + 8 + 2472            = 2481   node → node, client → provider
    PACKET_ACK    1 + 8                   = 9      receiver → sender
    FETCH         1 + 32 + 2              = 35     client → provider
    ACK           1 + 32 + 2 + 8·n        = 35 + 8n (the client always echoes n = 8: 99)
    MAIL          1 + 2 + 2081·n          = 3 + 2081n (n = max_items; 8: 16651, 1: 2084)
    ACKED         1 + 2                   = 3
    GET_CONSENSUS 1 + 8                   = 9      anyone → authority
    POSTED        1                       = 1      authority → node
    CONSENSUS / POST_DESCRIPTOR: a JSON document, variable (to or from the authority)

and CURVE (RFC 26) wraps each in a MESSAGE command: 8 bytes of name ("\\x07MESSAGE"), an 8-byte
nonce, and a box of 16 (MAC) + 1 (flags) + the plaintext, i.e. frame size = plaintext + 33.
`CURVE_OVERHEAD` is that 33; the capture summary checks it (every PACKET frame is 2514 bytes).

Roles come from public knowledge only: the authority's address (in every client's
configuration) and the nodes' addresses and roles (in the consensus); every other address is a
client. The same size means different things at different ends (9 bytes is a PACKET_ACK
between nodes but GET_CONSENSUS towards the authority), so `classify` takes both ends."""

PACKET = 2481
PACKET_ACK = 9
FETCH = 35
ACK_BASE, ACK_ID = 35, 8
MAIL_BASE, MAIL_ITEM = 3, 2081
ACKED = 3
POSTED = 1
CURVE_OVERHEAD = 33


def classify(size, src_role, dst_role):
    """The message kind an observer infers, e.g. 'PACKET', 'MAIL8', 'ACK8', or 'other'."""
    if "directory" in (src_role, dst_role):
        if dst_role == "directory":
            return "GET_CONSENSUS" if size == 9 else "POST_DESCRIPTOR"
        if size == POSTED:
            return "POSTED"
        # A signed consensus is kilobytes; a short reply is an ERROR (e.g. "not found" for an
        # epoch not yet published).
        return "CONSENSUS" if size >= 256 else "ERROR"
    if size == PACKET:
        return "PACKET"
    if size == PACKET_ACK:
        return "PACKET_ACK"
    if src_role == "client" and dst_role == "provider":
        if size == FETCH:
            return "FETCH"
        if size > ACK_BASE and (size - ACK_BASE) % ACK_ID == 0:
            return f"ACK{(size - ACK_BASE) // ACK_ID}"
    if src_role == "provider" and dst_role == "client":
        if size == ACKED:
            return "ACKED"
        if size > MAIL_BASE and (size - MAIL_BASE) % MAIL_ITEM == 0:
            return f"MAIL{(size - MAIL_BASE) // MAIL_ITEM}"
    return "other"


def roles(hosts, node_roles, directory="directory"):
    """host name -> role: the authority, the consensus' nodes, everyone else a client."""
    out = {}
    for name in hosts:
        out[name] = ("directory" if name == directory else node_roles.get(name, "client"))
    return out
