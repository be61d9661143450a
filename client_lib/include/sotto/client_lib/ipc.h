// The local control protocol between the `sotto` commands and the client daemon (`sotto up`).
// The daemon owns the client's state (RocksDB allows one process); commands ask it over a
// ZeroMQ REQ/REP socket at ipc://<home>/daemon.sock. The home folder is 0700, so only its owner
// can connect. One JSON object per request and per reply.
//
// Requests ("cmd" and its fields) and the fields of a successful reply ({"ok": true, ...}):
//   ping                          → pid
//   status                        → provider, provider_id, epoch, consensus ("ok" | "missing" |
//        "stale"), queue (messages waiting, receipts not counted), rates {send_per_min,
//        loop_per_min, drop_per_min, fetch_interval_ms}, connected, last_fetch_unix (or null),
//        last_error (or null), packets {real, drop, loop (fresh packets sent), total (every
//        PACKET on the wire, resends included), resent {real, cover}, given_up {real, cover},
//        failed (given up in all), unsent_slots, pending_acks, pending_acks_max, late_acks,
//        bytes_each}, loops {sent, returned, last_return_unix}, fetches, acks_sent, received,
//        duplicates, dropped_undecryptable, reseals, receipts {mode ("on" | "off"), delay_s,
//        waiting, in_texts, received}, contacts, unread, fingerprint
//   contact_code                  → code (grouped), compact, fingerprint
//   contact_add {name, code}      → name, fingerprint
//   contact_list                  → contacts [{name, fingerprint, provider, added_unix}]
//   contact_remove {name}         → name
//   send {to, text, expires_after_s} → id, queue
//   inbox {peek (bool), from (name, optional)} → messages [{id, from, fingerprint, text,
//        sent_unix, received_unix, expires_unix}]; marks them read unless peek
//   history {name, limit}         → messages [{id, direction ("out" | "in"), status ("queued" |
//        "sent" | "delivered" | "received"), text, sent_unix, stored_unix, expires_unix}]
//   receipts {mode ("on" | "off", optional), delay_s (1..604800, optional)} → mode, delay_s,
//        waiting; changes the setting if a field is given (client-spec §4.2)
//   shutdown                      → (the daemon stops after replying)
// A failed request: {"ok": false, "kind": K, "error": "one line saying what to do"} with K one of
//   "invalid"      the request cannot be done as asked (bad name, code, text, UTF-8, too long)
//   "not_found"    no such contact
//   "unavailable"  the network cannot be reached now (the message stays queued if one was sent)
//   "internal"     a bug or a broken state folder
// Fingerprints are the first 16 bytes of BLAKE2b-256("sotto-fingerprint" ‖ identity key) as hex
// in groups of 4 digits joined by '-' ("1a2b-3c4d-…", 39 characters).
#pragma once

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "sotto/core/keys.h"
#include "sotto/core/status.h"

namespace sotto::client {

std::string DaemonEndpoint(const std::filesystem::path& home);  // "ipc://<home>/daemon.sock"

// Sends one request and waits for the reply. Unavailable "the sotto daemon is not running …"
// if nobody answers within `timeout`. The reply may itself say {"ok": false}.
Result<nlohmann::json> IpcCall(const std::filesystem::path& home, const nlohmann::json& request,
                               std::chrono::milliseconds timeout);

std::string Fingerprint(const PublicKey& identity);

}  // namespace sotto::client
