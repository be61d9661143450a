// Internal to sotto::sim: runs numbered, independent jobs (sweep runs, attack points) on a few
// threads and hands their results back in number order, so that what a sweep writes never depends
// on the thread count or on which job finished first.
//
// The caller owns the storage: `work(i)` fills slot i of something the caller sized beforehand,
// `commit(i)` (always on the calling thread, in order 0, 1, 2, …) consumes it. Workers never run
// more than a few jobs ahead of the last commit, which bounds what waits in memory.
#pragma once

#include <cstdint>
#include <functional>

#include "sotto/core/status.h"

namespace sotto::sim {

struct ParallelProgress {
  double jobs_done = 0;  // finished jobs plus the done fraction of those in flight
  std::uint64_t jobs_total = 0;
  double elapsed_s = 0;
};

struct ParallelTasks {
  std::uint64_t count = 0;
  unsigned threads = 1;  // at least 1; never more than count are started
  // Runs job i on a worker thread; may call `report(fraction)` to say how far it is. A failed
  // Status (or an exception, turned into one) stops the run; the error of the lowest failed job
  // is returned.
  std::function<Status(std::uint64_t i, const std::function<void(double)>& report)> work;
  // Consumes job i on the calling thread, in order; a failed Status stops the run.
  std::function<Status(std::uint64_t i)> commit;
  // On the calling thread, about 5 times a second and after every commit (may be empty).
  std::function<void(const ParallelProgress&)> on_progress;
};

Status RunInOrder(const ParallelTasks& tasks);

// std::thread::hardware_concurrency(), at least 1.
unsigned DefaultThreads();

}  // namespace sotto::sim
