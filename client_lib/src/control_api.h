// ControlApi: the answers to the `sotto` commands' requests (the protocol is listed in
// sotto/client_lib/ipc.h), over the ClientEngine. Runs on the engine thread; a slow request
// (a long history) delays only the engine, never the wire (client-spec §1.1). Errors are
// {"ok": false, "kind": ..., "error": "what to do"}; no request can crash the daemon.
#pragma once

#include <nlohmann/json.hpp>

#include "client_engine.h"

namespace sotto::client {

class ControlApi {
 public:
  explicit ControlApi(ClientEngine& engine) : e_(engine) {}
  // One request; `stop` is set by a shutdown request.
  nlohmann::json Handle(const nlohmann::json& request, bool& stop);

 private:
  nlohmann::json Status_();
  nlohmann::json ContactCodeReply();
  nlohmann::json ContactAdd(const nlohmann::json& request);
  nlohmann::json ContactList();
  nlohmann::json ContactRemove(const nlohmann::json& request);
  nlohmann::json Send(const nlohmann::json& request);
  nlohmann::json Inbox(const nlohmann::json& request);
  nlohmann::json History(const nlohmann::json& request);
  nlohmann::json Receipts(const nlohmann::json& request);
  std::string NameOf(const PublicKey& peer);
  ClientEngine& e_;
};

}  // namespace sotto::client
