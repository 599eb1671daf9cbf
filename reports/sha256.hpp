#pragma once
// SHA-256 (FIPS 180-4) of a byte string, as 64 lowercase hex digits: what `sha256sum` prints.
// `aicbench history` identifies a run by its result file's hash, so the same file added twice,
// from any node, is recognised without trusting its name or its contents' claims.
#include <string>
#include <string_view>

namespace aicbench {

std::string sha256_hex(std::string_view bytes);

}  // namespace aicbench
