// MailLedger (mail_ledger.h): item ids between fetch, storage and acknowledgement.
#include "mail_ledger.h"

namespace sotto::client {

std::vector<std::size_t> MailLedger::OnMail(const std::vector<std::uint64_t>& ids, TimePoint now) {
  std::vector<std::size_t> fresh;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto id = ids[i];
    if (id == 0 || processing_.contains(id) || to_ack_set_.contains(id)) continue;
    if (acked_set_.contains(id)) {  // our ACK did not reach the provider: say it again
      to_ack_.push_back(id);
      to_ack_set_.insert(id);
      continue;
    }
    processing_.emplace(id, now);
    fresh.push_back(i);
  }
  return fresh;
}

void MailLedger::Stored(std::uint64_t id) {
  if (processing_.erase(id) == 0 || to_ack_set_.contains(id)) return;
  to_ack_.push_back(id);
  to_ack_set_.insert(id);
}

void MailLedger::Retry(std::uint64_t id) { processing_.erase(id); }

void MailLedger::Remember(std::uint64_t id) {
  if (!acked_set_.insert(id).second) return;
  acked_.push_back(id);
  while (acked_.size() > remember_) {
    acked_set_.erase(acked_.front());
    acked_.pop_front();
  }
}

std::vector<std::uint64_t> MailLedger::NextAck(std::size_t n) {
  std::vector<std::uint64_t> ids;
  ids.reserve(n);
  while (ids.size() < n && !to_ack_.empty()) {
    const auto id = to_ack_.front();
    to_ack_.pop_front();
    to_ack_set_.erase(id);
    ids.push_back(id);
    Remember(id);
  }
  ids.resize(n, 0);
  return ids;
}

void MailLedger::AckNotSent(const std::vector<std::uint64_t>& ids) {
  for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
    const auto id = *it;
    if (id == 0 || to_ack_set_.contains(id)) continue;
    to_ack_.push_front(id);
    to_ack_set_.insert(id);
    // It stays in the acknowledged set: if it comes back in a MAIL meanwhile, it is not
    // processed again (OnMail skips ids waiting for their ACK first).
  }
}

void MailLedger::Expire(TimePoint now) {
  for (auto it = processing_.begin(); it != processing_.end();) {
    it = now - it->second > timeout_ ? processing_.erase(it) : std::next(it);
  }
}

}  // namespace sotto::client
