#pragma once
// Wall-clock and monotonic time, in the forms result files and timing code use.
#include <chrono>
#include <ctime>
#include <string>

namespace aicbench {

// Seconds on the steady (monotonic) clock: for intervals, and for lining up telemetry readings
// with the measurement they belong to.
inline double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The current time formatted by strftime, in UTC or local time.
inline std::string format_time_now(const char* format, bool utc = true) {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm parts{};
  if (utc) {
    gmtime_r(&now, &parts);
  } else {
    localtime_r(&now, &parts);
  }
  char buf[64];
  std::strftime(buf, sizeof buf, format, &parts);
  return buf;
}

}  // namespace aicbench
