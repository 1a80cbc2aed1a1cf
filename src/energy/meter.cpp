// Meter helpers shared by all meters.
#include "energy/meter.h"

namespace eaq::energy {

std::string_view to_string(Source source) {
  switch (source) {
    case Source::counter: return "counter";
    case Source::sampled: return "sampled";
    case Source::estimated: return "estimated";
  }
  return "unknown";
}

MeterReading Meter::read() {
  MeterReading reading;
  reading.time_s = now_s();
  reading.energies = energy_at(reading.time_s).get();
  return reading;
}

PendingEnergies ready_energies(std::vector<DomainEnergy> energies) {
  std::promise<std::vector<DomainEnergy>> promise;
  promise.set_value(std::move(energies));
  return promise.get_future().share();
}

}  // namespace eaq::energy
