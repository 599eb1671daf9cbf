#pragma once
// A report never writes over what it reads: an output path (--md, --html, --csv, --junit) that
// is one of the input files, or two outputs that are one file, is refused before anything is
// read or written.

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace aicbench::reports {

struct OutputPath {
  std::string option;  // "--md", ...
  std::filesystem::path path;
};

// Whether two paths are one file: the same inode where both exist (links included), else the same
// weakly canonical absolute path, so ./x.json, x.json and dir/../x.json are one file.
bool same_file(const std::filesystem::path& a, const std::filesystem::path& b);

// Throws InputError (exit 2) naming both paths when an output is an input or two outputs are the
// same file. Paths are compared as files: the same inode where both exist (links included),
// else the same weakly canonical path, so ./x.json, x.json and dir/../x.json are one file.
void check_output_paths(const std::vector<std::filesystem::path>& inputs, const std::vector<OutputPath>& outputs);

}  // namespace aicbench::reports
