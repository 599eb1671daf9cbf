#include "reports/gnuplot.hpp"

#include "reports/text_format.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reports/text_format.hpp"

extern char** environ;

namespace aicbench::reports {
namespace {

namespace fs = std::filesystem;

constexpr const char* kInstallHint =
    "install gnuplot-nox (apt-get install gnuplot-nox) or set AICBENCH_GNUPLOT to a gnuplot binary, "
    "then run the report again";

// A file under the temp directory, created with a unique name (mkstemps) and removed on scope exit.
class TempFile {
 public:
  explicit TempFile(const std::string& suffix, const std::string& content = "") {
    std::string name = (fs::temp_directory_path() / ("aicbench-report-XXXXXX" + suffix)).string();
    int fd = ::mkstemps(name.data(), static_cast<int>(suffix.size()));
    if (fd < 0) throw std::runtime_error("cannot create a temporary file in " + fs::temp_directory_path().string());
    ::close(fd);
    path_ = name;
    std::ofstream(path_, std::ios::binary) << content;
  }
  ~TempFile() { std::error_code ignored; fs::remove(path_, ignored); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const fs::path& path() const { return path_; }
  std::string read() const { std::ostringstream s; s << std::ifstream(path_, std::ios::binary).rdbuf(); return s.str(); }

 private:
  fs::path path_;
};

bool executable_file(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

ChartDrawer gnuplot_drawer() {
  std::string binary;
  if (const char* env = std::getenv("AICBENCH_GNUPLOT"); env && *env) {
    if (!executable_file(env)) {
      return {nullptr, "AICBENCH_GNUPLOT=" + std::string(env) + " is not an executable file; " + kInstallHint};
    }
    binary = env;
  } else {
    std::stringstream path(std::getenv("PATH") ? std::getenv("PATH") : "");
    for (std::string dir; binary.empty() && std::getline(path, dir, ':');) {
      fs::path candidate = fs::path(dir.empty() ? "." : dir) / "gnuplot";
      if (executable_file(candidate)) binary = candidate.string();
    }
    if (binary.empty()) return {nullptr, "gnuplot was not found on PATH and AICBENCH_GNUPLOT is not set; " + std::string(kInstallHint)};
  }
  return {[binary](const std::string& script) { return run_gnuplot(binary, script); }, ""};
}

std::string run_gnuplot(const std::string& binary, const std::string& gnuplot_script, double timeout_s) {
  TempFile script(".gp", gnuplot_script), out(".svg"), err(".txt");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.path().c_str(), O_WRONLY | O_TRUNC, 0);
  posix_spawn_file_actions_addopen(&actions, 2, err.path().c_str(), O_WRONLY | O_TRUNC, 0);
  std::string arg0 = binary, arg1 = script.path().string();
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  pid_t pid = 0;
  int spawn_error = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawn_error != 0) throw std::runtime_error("cannot run " + binary + ": " + std::strerror(spawn_error));

  // Poll, so that a gnuplot that never ends is killed instead of hanging the report.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  int wait_status = 0;
  bool killed = false;
  for (;;) {
    pid_t done = ::waitpid(pid, &wait_status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) throw std::runtime_error("cannot wait for " + binary + ": " + std::strerror(errno));
    if (!killed && std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      killed = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (killed) throw std::runtime_error("gnuplot (" + binary + ") took longer than " + printf_double("%g", timeout_s) + " s and was stopped");
  if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
    std::string how = WIFEXITED(wait_status) ? "exit status " + std::to_string(WEXITSTATUS(wait_status)) : "killed by a signal";
    throw std::runtime_error("gnuplot (" + binary + ") failed, " + how + ": " + err.read());
  }
  std::string svg = out.read();
  if (svg.empty()) throw std::runtime_error("gnuplot (" + binary + ") wrote nothing: " + err.read());
  return svg;
}

std::string gnuplot_quote(const std::string& s, size_t max_chars) {
  std::string clean = replace_control_characters(s, /*keep_line_breaks=*/false);
  // Cut at a character boundary: never inside a UTF-8 sequence.
  if (clean.size() > max_chars) {
    size_t cut = max_chars;
    while (cut > 0 && (static_cast<unsigned char>(clean[cut]) & 0xC0) == 0x80) --cut;
    clean = clean.substr(0, cut) + "…";
  }
  std::string out = "'";
  for (char c : clean) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

std::string inline_svg(std::string svg, const std::string& title, const std::string& id_prefix) {
  size_t start = svg.find("<svg");
  if (start == std::string::npos) throw std::runtime_error("gnuplot wrote no <svg> element");
  svg.erase(0, start);  // the <?xml?> prolog has no place inside HTML
  for (const char* id_start : {" id='", " id=\"", "href='#", "href=\"#", "url(#"}) {
    std::string prefixed = id_start;  // built in place: GCC 12 warns (-Wrestrict) on a + b here
    prefixed += id_prefix;
    replace_all(svg, id_start, prefixed);
  }
  const std::string gnuplot_title = "<title>Gnuplot</title>";
  if (size_t at = svg.find(gnuplot_title); at != std::string::npos) {
    svg.replace(at, gnuplot_title.size(), "<title>" + markup_escape(title) + "</title>");
  }
  return svg;
}

}  // namespace aicbench::reports
