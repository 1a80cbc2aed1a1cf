// NvmlMeter: per-GPU sampling threads, counter-update detection and end correction.
#include "energy/nvml_meter.h"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/error.h"
#include "energy/nvml_library.h"
#include "energy/power_trace.h"

namespace eaq::energy {

namespace {

std::chrono::steady_clock::time_point to_time_point(double time_s) {
  return std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(time_s)));
}

}  // namespace

class NvmlMeter::GpuSampler {
 public:
  GpuSampler(std::shared_ptr<NvmlLibrary> library, nvml::Device device, int index, bool use_counter,
             const NvmlMeterOptions& options)
      : library_(std::move(library)),
        device_(device),
        index_(index),
        use_counter_(use_counter),
        interval_s_(options.sample_interval_s),
        tick_timeout_s_(options.tick_timeout_s) {
    if (use_counter_) counter_origin_mj_ = *library_->total_energy_mj(device_);
    sample_power();
    thread_ = std::thread([this] { run(); });
  }

  ~GpuSampler() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  std::shared_future<DomainEnergy> request(double time_s) {
    std::promise<DomainEnergy> promise;
    auto future = promise.get_future().share();
    {
      std::lock_guard lock(mutex_);
      if (failure_) {
        promise.set_exception(failure_);
        return future;
      }
      pending_.push_back({time_s, std::move(promise)});
    }
    cv_.notify_all();
    return future;
  }

  double latest_power_w() const { return trace_.latest_power_w().value_or(0.0); }

 private:
  struct Request {
    double time_s;
    std::promise<DomainEnergy> promise;
  };

  void run() {
    double next_s = now_s();
    try {
      while (true) {
        {
          std::unique_lock lock(mutex_);
          cv_.wait_until(lock, to_time_point(next_s), [&] {
            if (stop_) return true;
            const double now = now_s();
            for (const auto& request : pending_) {
              if (request.time_s <= now) return true;
            }
            return false;
          });
          if (stop_) break;
        }
        sample_power();
        resolve_due_requests();
        const double now = now_s();
        if (now >= next_s) next_s = now + interval_s_;  // no catch-up bursts after a long read
      }
    } catch (...) {
      std::lock_guard lock(mutex_);
      failure_ = std::current_exception();
      for (auto& request : pending_) request.promise.set_exception(failure_);
      pending_.clear();
      return;
    }
    std::lock_guard lock(mutex_);
    for (auto& request : pending_) {
      request.promise.set_exception(std::make_exception_ptr(
          Error(fmt::format("gpu:{}: the meter stopped before a reading was resolved", index_))));
    }
    pending_.clear();
  }

  void sample_power() {
    const auto power_mw = library_->power_mw(device_);
    if (power_mw) trace_.add(now_s(), *power_mw / 1000.0);
  }

  std::vector<Request> take_due(double up_to_s) {
    std::vector<Request> due;
    std::lock_guard lock(mutex_);
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->time_s <= up_to_s) {
        due.push_back(std::move(*it));
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
    return due;
  }

  void resolve_due_requests() {
    if (!use_counter_) {
      const double covered_s = trace_.latest_time_s().value_or(now_s());
      for (auto& request : take_due(covered_s)) {
        DomainEnergy energy;
        energy.energy_j = trace_.energy_to(request.time_s);
        request.promise.set_value(energy);
      }
      return;
    }
    auto due = take_due(now_s());
    if (due.empty()) return;
    try {
      resolve_from_next_update(due);
    } catch (...) {
      // Taken requests must not be dropped unresolved: they carry the failure to their windows.
      for (auto& request : due) request.promise.set_exception(std::current_exception());
      throw;
    }
  }

  void resolve_from_next_update(std::vector<Request>& due) {

    // Read the counter back to back until it changes. The change happened between the moments
    // the two reads sampled it; each read samples somewhere inside its call, so the midpoint of
    // the two calls' midpoints is the estimate (within one read, ~4 ms on an H100).
    double previous_start_s = now_s();
    unsigned long long previous_mj = read_counter_mj();
    double previous_end_s = now_s();
    const double deadline_s = previous_start_s + tick_timeout_s_;
    std::optional<double> tick_s;
    unsigned long long tick_mj = previous_mj;
    while (now_s() < deadline_s) {
      sample_power();
      if (previous_end_s - previous_start_s < 0.001) {
        // A fast counter (not an H100): poll at 1 kHz rather than spin.
        std::this_thread::sleep_for(std::chrono::microseconds(1000));
      }
      const double start_s = now_s();
      const unsigned long long value_mj = read_counter_mj();
      const double end_s = now_s();
      if (value_mj != previous_mj) {
        tick_s = 0.5 * (0.5 * (previous_start_s + previous_end_s) + 0.5 * (start_s + end_s));
        tick_mj = value_mj;
        break;
      }
      previous_start_s = start_s;
      previous_end_s = end_s;
    }
    sample_power();
    if (!tick_s) {
      spdlog::warn("gpu:{}: the NVML energy counter did not change within {:.2f} s; using its last "
                   "value (error up to {:.0f} ms of power)", index_, tick_timeout_s_,
                   kCounterUpdatePeriodS * 1000);
    }
    for (auto& request : due) {
      DomainEnergy energy;
      energy.energy_j = static_cast<double>(tick_mj - counter_origin_mj_) / 1000.0;
      if (tick_s) energy.energy_j -= trace_.energy_between(request.time_s, *tick_s);
      energy.sampled_energy_j = trace_.energy_to(request.time_s);
      request.promise.set_value(energy);
    }
  }

  unsigned long long read_counter_mj() {
    const auto value = library_->total_energy_mj(device_);
    if (!value) fail("gpu:{}: the NVML energy counter stopped being supported", index_);
    return *value;
  }

  std::shared_ptr<NvmlLibrary> library_;
  nvml::Device device_;
  int index_;
  bool use_counter_;
  double interval_s_;
  double tick_timeout_s_;
  unsigned long long counter_origin_mj_ = 0;
  PowerTrace trace_;

  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Request> pending_;
  std::exception_ptr failure_;
  bool stop_ = false;
  std::thread thread_;
};

NvmlMeter::NvmlMeter(NvmlMeterOptions options) {
  if (!(options.sample_interval_s > 0 && options.sample_interval_s <= 10)) {
    fail("the power sampling interval must be in (0, 10] s, got {} s", options.sample_interval_s);
  }
  library_ = std::make_shared<NvmlLibrary>(options.library_path);
  driver_version_ = library_->driver_version();
  const int count = library_->device_count();
  if (count <= 0) fail("NVML ({}) reports no GPU: there is nothing to meter on the GPU side", library_->path());
  for (int index = 0; index < count; ++index) {
    const nvml::Device device = library_->device(index);
    const bool has_counter = library_->total_energy_mj(device).has_value();
    const bool has_power = library_->power_mw(device).has_value();
    if (!has_counter && !has_power) {
      fail("gpu:{} ({}) supports neither the energy counter nor power readings in NVML: it cannot "
           "be metered", index, library_->device_name(device));
    }
    const bool use_counter = has_counter && options.mode == NvmlMode::automatic;
    domains_.push_back({fmt::format("gpu:{}", index), use_counter ? Source::counter : Source::sampled, true});
    samplers_.push_back(std::make_unique<GpuSampler>(library_, device, index, use_counter, options));
  }
}

NvmlMeter::~NvmlMeter() = default;

const std::string& NvmlMeter::library_path() const { return library_->path(); }

double NvmlMeter::update_period_s() const {
  for (const auto& domain : domains_) {
    if (domain.source == Source::counter) return kCounterUpdatePeriodS;
  }
  return 0.0;
}

PendingEnergies NvmlMeter::energy_at(double time_s) {
  std::vector<std::shared_future<DomainEnergy>> parts;
  parts.reserve(samplers_.size());
  for (auto& sampler : samplers_) parts.push_back(sampler->request(time_s));
  // Deferred: gathered on the thread that calls get(), after every GPU's thread has resolved.
  return std::async(std::launch::deferred, [parts = std::move(parts)] {
           std::vector<DomainEnergy> energies;
           energies.reserve(parts.size());
           for (const auto& part : parts) energies.push_back(part.get());
           return energies;
         }).share();
}

std::vector<double> NvmlMeter::power_w() {
  std::vector<double> powers;
  for (const auto& sampler : samplers_) powers.push_back(sampler->latest_power_w());
  return powers;
}

std::vector<GpuInfo> NvmlMeter::gpu_info() {
  std::vector<GpuInfo> infos;
  for (int index = 0; index < static_cast<int>(samplers_.size()); ++index) {
    const nvml::Device device = library_->device(index);
    GpuInfo info;
    info.index = index;
    info.name = library_->device_name(device);
    info.energy_counter = library_->total_energy_mj(device).has_value();
    info.source = domains_[index].source;
    if (auto limit = library_->enforced_power_limit_mw(device)) info.power_limit_w = *limit / 1000.0;
    if (auto power = library_->power_mw(device)) info.power_w = *power / 1000.0;
    if (auto clock = library_->clock_mhz(device, nvml::kClockSm)) info.sm_clock_mhz = *clock;
    if (auto clock = library_->clock_mhz(device, nvml::kClockMem)) info.memory_clock_mhz = *clock;
    if (auto temperature = library_->temperature_c(device)) info.temperature_c = *temperature;
    if (auto memory = library_->memory(device)) {
      info.memory_total_bytes = memory->total;
      info.memory_used_bytes = memory->used;
    }
    infos.push_back(std::move(info));
  }
  return infos;
}

}  // namespace eaq::energy
