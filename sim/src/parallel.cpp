// RunInOrder (parallel.h): a claim counter, a bounded look-ahead and an in-order commit loop.
#include "parallel.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

namespace sotto::sim {
namespace {

using Clock = std::chrono::steady_clock;

enum class JobState : std::uint8_t { kPending, kDone, kFailed };

class Runner {
 public:
  explicit Runner(const ParallelTasks& tasks)
      : tasks_(tasks),
        threads_(static_cast<unsigned>(
            std::min<std::uint64_t>(std::max(tasks.threads, 1u), tasks.count))),
        // Enough look-ahead to keep every thread busy while a slow job holds up the commits.
        window_(std::max<std::uint64_t>(4, 2 * std::uint64_t{threads_})),
        state_(tasks.count, JobState::kPending),
        errors_(tasks.count),
        in_flight_(threads_) {}

  Status Run() {
    if (tasks_.count == 0) return Status::Ok();
    start_ = Clock::now();
    std::vector<std::thread> workers;
    workers.reserve(threads_);
    for (unsigned w = 0; w < threads_; ++w) workers.emplace_back([this, w] { Work(w); });
    Status result = CommitAll();
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers) t.join();
    return result;
  }

 private:
  void Work(unsigned w) {
    const std::function<void(double)> report = [this, w](double f) {
      in_flight_[w].store(std::clamp(f, 0.0, 1.0), std::memory_order_relaxed);
    };
    for (;;) {
      std::uint64_t i = 0;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock,
                 [this] { return stop_ || next_ >= tasks_.count || next_ < committed_ + window_; });
        if (stop_ || next_ >= tasks_.count) return;
        i = next_++;
      }
      Status s = Guarded(i, report);
      in_flight_[w].store(0, std::memory_order_relaxed);
      {
        std::lock_guard lock(mu_);
        state_[i] = s.ok() ? JobState::kDone : JobState::kFailed;
        if (!s.ok()) errors_[i] = std::move(s);
        ++finished_;
      }
      cv_.notify_all();
    }
  }

  Status Guarded(std::uint64_t i, const std::function<void(double)>& report) {
    try {
      return tasks_.work(i, report);
    } catch (const std::bad_alloc&) {
      return Status::Internal("out of memory: run fewer jobs at once (--jobs) or smaller runs");
    } catch (const std::exception& e) {
      return Status::Internal(std::string("unexpected error: ") + e.what());
    }
  }

  Status CommitAll() {
    auto last_report = Clock::now();
    for (std::uint64_t i = 0; i < tasks_.count; ++i) {
      {
        std::unique_lock lock(mu_);
        while (state_[i] == JobState::kPending) {
          cv_.wait_for(lock, std::chrono::milliseconds(200));
          if (state_[i] == JobState::kPending) {
            lock.unlock();
            Report();
            last_report = Clock::now();
            lock.lock();
          }
        }
        if (state_[i] == JobState::kFailed) return std::move(errors_[i]);
      }
      if (Status s = tasks_.commit(i); !s.ok()) return s;
      {
        std::lock_guard lock(mu_);
        committed_ = i + 1;
      }
      cv_.notify_all();
      const auto now = Clock::now();
      if (i + 1 == tasks_.count || now - last_report > std::chrono::milliseconds(100)) {
        Report();
        last_report = now;
      }
    }
    return Status::Ok();
  }

  void Report() {
    if (!tasks_.on_progress) return;
    ParallelProgress p;
    p.jobs_total = tasks_.count;
    {
      std::lock_guard lock(mu_);
      p.jobs_done = static_cast<double>(finished_);
    }
    for (const auto& f : in_flight_) p.jobs_done += f.load(std::memory_order_relaxed);
    p.jobs_done = std::min(p.jobs_done, static_cast<double>(tasks_.count));
    p.elapsed_s = std::chrono::duration<double>(Clock::now() - start_).count();
    tasks_.on_progress(p);
  }

  const ParallelTasks& tasks_;
  const unsigned threads_;
  const std::uint64_t window_;
  Clock::time_point start_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::uint64_t next_ = 0;       // the next job to claim
  std::uint64_t committed_ = 0;  // jobs committed so far
  std::uint64_t finished_ = 0;   // jobs finished (done or failed)
  std::vector<JobState> state_;
  std::vector<Status> errors_;
  std::vector<std::atomic<double>> in_flight_;  // per worker: its current job's done fraction
};

}  // namespace

Status RunInOrder(const ParallelTasks& tasks) { return Runner(tasks).Run(); }

unsigned DefaultThreads() { return std::max(1u, std::thread::hardware_concurrency()); }

}  // namespace sotto::sim
