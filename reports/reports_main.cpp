// main() of the reports-only aicbench: the commands that read result files, built without CUDA,
// so results can be read on a machine with no GPU libraries (cmake --preset reports). Asked for
// a command that needs the full build (info, list, run), it says so and exits 2.
#include "reports/cli_common.hpp"

int main(int argc, char** argv) {
  using namespace aicbench::cli;
  return run_cli(argc, argv, report_commands(), BuildKind::reports_only);
}
