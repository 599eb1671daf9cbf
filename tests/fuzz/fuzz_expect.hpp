#pragma once
// What a fuzz target asks of a reader, whatever the bytes: accept them, or reject them the way the
// command line's contract says bad input is rejected (InputError, exit code 2, a message that
// names the input). A crash, a sanitizer report, another exception (the CLI would exit 1) or
// another exit code is a finding: it is printed and the process aborts, so libFuzzer keeps the
// input and the replay test fails.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "reports/result_file.hpp"

namespace aicbench::fuzz {

[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "fuzz finding: %s\n", what.c_str());
  std::abort();
}

template <typename Read>
void expect_accepted_or_rejected(const std::string& origin, Read&& read) {
  try {
    read();
  } catch (const InputError& e) {
    const std::string message = e.what();
    if (e.exit_code() != 2) {
      finding("bad input rejected with exit code " + std::to_string(e.exit_code()) + ", not 2: " + message);
    }
    if (message.find(origin) == std::string::npos) {
      finding("the message does not name the input '" + origin + "': " + message);
    }
  } catch (const std::exception& e) {
    finding(std::string("not an InputError (the command line would exit 1): ") + e.what());
  }
}

}  // namespace aicbench::fuzz
