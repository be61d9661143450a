// WireExchange (wire_exchange.h): the hand-off between the engine and the wire thread.
#include "wire_exchange.h"

#include <sodium.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace sotto::client {

WireExchange::WireExchange() {
  doorbell_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (doorbell_ < 0) {
    std::fputs("sotto: cannot create an eventfd (out of file descriptors?)\n", stderr);
    std::abort();
  }
}

WireExchange::~WireExchange() {
  for (auto& p : offered_) sodium_memzero(p.message.data(), p.message.size());
  if (doorbell_ >= 0) ::close(doorbell_);
}

void WireExchange::Ring() {
  const std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(doorbell_, &one, sizeof one);  // never blocks (counter)
}

void WireExchange::SetConsensus(std::shared_ptr<const directory::Consensus> consensus) {
  {
    std::lock_guard lock(mu_);
    consensus_ = std::move(consensus);
    consensus_changed_ = true;
  }
  Ring();
}

std::shared_ptr<const directory::Consensus> WireExchange::consensus() const {
  std::lock_guard lock(mu_);
  return consensus_;
}

void WireExchange::SetError(std::string what) {
  std::lock_guard lock(mu_);
  error_ = std::move(what);
}

std::string WireExchange::error() const {
  std::lock_guard lock(mu_);
  return error_;
}

void WireExchange::Offer(ReadyPacket packet) {
  std::lock_guard lock(mu_);
  offered_.push_back(std::move(packet));
}

std::size_t WireExchange::offered() const {
  std::lock_guard lock(mu_);
  return offered_.size();
}

void WireExchange::MailResult(std::uint64_t id, bool stored) {
  std::lock_guard lock(mu_);
  if (mail_results_.size() < kMaxQueued) mail_results_.emplace_back(id, stored);
}

std::optional<ReadyPacket> WireExchange::TakeOffered() {
  std::lock_guard lock(mu_);
  if (offered_.empty()) return std::nullopt;
  ReadyPacket p = std::move(offered_.front());
  offered_.pop_front();
  return p;
}

void WireExchange::PutBackOffered(ReadyPacket packet) {
  std::lock_guard lock(mu_);
  offered_.push_front(std::move(packet));
}

std::vector<std::pair<std::uint64_t, bool>> WireExchange::TakeMailResults() {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::uint64_t, bool>> out;
  out.swap(mail_results_);
  return out;
}

void WireExchange::PostMail(std::vector<FetchedMail> items) {
  {
    std::lock_guard lock(mu_);
    for (auto& item : items) {
      if (mail_.size() >= kMaxQueued) {
        counters.dropped_events.fetch_add(1);
        continue;
      }
      mail_.push_back(std::move(item));
    }
  }
  Ring();
}

void WireExchange::PostOutcome(PacketOutcome outcome) {
  {
    std::lock_guard lock(mu_);
    if (outcomes_.size() >= kMaxQueued) {
      counters.dropped_events.fetch_add(1);
      return;
    }
    outcomes_.push_back(outcome);
  }
  Ring();
}

WireExchange::Drained WireExchange::Drain() {
  std::uint64_t value = 0;
  [[maybe_unused]] auto n = ::read(doorbell_, &value, sizeof value);  // clears it
  Drained out;
  std::lock_guard lock(mu_);
  out.mail.swap(mail_);
  out.outcomes.swap(outcomes_);
  out.consensus_changed = consensus_changed_;
  consensus_changed_ = false;
  return out;
}

}  // namespace sotto::client
