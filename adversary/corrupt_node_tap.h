// The tap of sotto-corrupt-node: records everything the node sees (corrupt_node_recording.h)
// and misbehaves as its options say (corrupt_node_options.h). Every random decision comes from
// streams seeded by --seed, one stream per misbehaviour, so a run can be repeated; the ack
// decision of --withhold-acks is a keyed hash of (previous hop, link id), so a resend of a
// withheld packet is withheld again. Event-loop thread only.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "corrupt_node_options.h"
#include "corrupt_node_recording.h"
#include "sotto/core/random.h"
#include "sotto/mixnode/tap.h"

namespace sotto::adversary {

class CorruptNodeTap final : public mixnode::NodeTap {
 public:
  CorruptNodeTap(CorruptNodeOptions options, std::unique_ptr<Recording> recording);

  void OnStart(const mixnode::TapNodeInfo& info) override;
  void OnPacketIn(const mixnode::TapPacketIn& in) override;
  void OnAckOut(const std::string& to, std::uint64_t link_id) override;
  void OnRelease(std::size_t real, std::size_t dummies) override;
  void OnPacketOut(const mixnode::TapPacketOut& out, mixnode::TapOutAction action) override;
  void OnAckIn(const std::string& from, std::uint64_t link_id,
               std::optional<std::uint64_t> pool) override;
  void OnMailStored(const sphinx::MailboxId& mailbox, std::uint64_t item,
                    const Bytes& payload) override;
  void OnFetch(const sphinx::MailboxId& mailbox, std::uint16_t max,
               const std::vector<std::uint64_t>& item_ids) override;
  void OnMailAck(const sphinx::MailboxId& mailbox, const std::vector<std::uint64_t>& ids) override;
  void OnExpired(std::uint64_t pool) override;
  void OnLinkReplaced(const std::string& to, std::string_view reason) override;
  void OnStop() override;

  mixnode::TapAccept DecideAccept(const std::string& from, bool from_client,
                                  std::uint64_t link_id) override;
  mixnode::TapAckDecision DecideAck(const mixnode::TapPacketIn& in,
                                    const Bytes& routing_id) override;
  mixnode::TapOutAction BeforePacketOut(const mixnode::TapPacketOut& out,
                                        std::span<std::uint8_t> packet) override;

  void OnTick(std::int64_t now_us, mixnode::NodeTapHost& host) override;
  std::optional<std::int64_t> NextWakeupUs() const override;

 private:
  struct DelayedAck {
    Bytes routing_id;
    std::string to;
    std::uint64_t link_id;
  };
  struct Copy {
    mixnode::TapPacketOut out;
    Bytes packet;
  };

  void Ack(std::string_view to, std::uint64_t link_id, std::string_view action);
  bool Withheld(const std::string& from, std::uint64_t link_id, std::int64_t now_us,
                const Bytes& routing_id) const;
  bool HoldExempt(const std::string& from) const;

  CorruptNodeOptions options_;
  std::unique_ptr<Recording> recording_;
  std::array<std::uint8_t, 32> withhold_key_{};
  DeterministicRng drop_rng_, flip_rng_, replay_rng_;
  std::int64_t start_us_ = 0;
  std::multimap<std::int64_t, DelayedAck> delayed_acks_;  // by due time
  std::multimap<std::int64_t, Copy> copies_;              // by due time
  std::vector<std::uint64_t> held_;                       // pool ids
  std::int64_t next_release_us_ = 0;
};

// The tap for NodeProgram::make_tap: parses the options, opens the recording.
Result<std::unique_ptr<mixnode::NodeTap>> MakeCorruptNodeTap(
    const std::map<std::string, std::string>& values);

}  // namespace sotto::adversary
