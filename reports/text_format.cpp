#include "reports/text_format.hpp"

#include <cmath>
#include <cstdio>

namespace aicbench::reports {

std::string printf_double(const char* format, double value) {
  char buffer[64];  // every format used here is bounded (%.3e, %.0f of values under 1e7, ...)
  std::snprintf(buffer, sizeof buffer, format, value);
  return buffer;
}

std::string sig3(double value) {
  const double a = std::fabs(value);
  if (a == 0) return "0";
  if (!std::isfinite(value)) return value != value ? "nan" : value > 0 ? "inf" : "-inf";
  if (a >= 1e7 || a < 1e-4) return printf_double("%.2e", value);
  if (a >= 100) return printf_double("%.0f", value);
  return printf_double("%#.3g", value);
}

std::string whole_number(double value) {
  return std::fabs(value) < 1e15 ? printf_double("%.0f", value) : sig3(value);
}

std::string human_time(double seconds) {
  const double a = std::fabs(seconds);
  if (a == 0 || !std::isfinite(seconds)) return sig3(seconds) + " s";
  if (a < 1e-6) return sig3(seconds * 1e9) + " ns";
  if (a < 1e-3) return sig3(seconds * 1e6) + " µs";
  if (a < 1) return sig3(seconds * 1e3) + " ms";
  return sig3(seconds) + " s";
}

std::optional<double> seconds_per_time_unit(std::string_view unit) {
  if (unit == "ns") return 1e-9;
  if (unit == "us") return 1e-6;
  if (unit == "ms") return 1e-3;
  if (unit == "s") return 1.0;
  return std::nullopt;
}

std::string join(const std::vector<std::string>& parts, const std::string& separator) {
  std::string out;
  for (const auto& part : parts) {
    if (part.empty()) continue;
    if (!out.empty()) out += separator;
    out += part;
  }
  return out;
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

std::string replace_control_characters(std::string_view s, bool keep_line_breaks) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    const bool line_break = c == '\t' || c == '\n' || c == '\r';
    if (line_break) {
      out += keep_line_breaks ? c : ' ';
    } else if (u < 0x20 || u == 0x7f) {
      out += "\xEF\xBF\xBD";  // U+FFFD
    } else {
      out += c;
    }
  }
  return out;
}

std::string html_page_head(std::string_view title, std::string_view style) {
  std::string head = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>";
  head += markup_escape(title);
  head += "</title>\n<style>\n";
  head += style;
  head += "</style>\n</head>\n<body>\n";
  return head;
}

std::string markup_escape(std::string_view s) {
  std::string out;
  for (char c : replace_control_characters(s)) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string xml_escape(std::string_view s) {
  std::string out = markup_escape(s);
  replace_all(out, "\xEF\xBF\xBE", "\xEF\xBF\xBD");
  replace_all(out, "\xEF\xBF\xBF", "\xEF\xBF\xBD");
  return out;
}

std::string markdown_escape(std::string_view s) {
  std::string out;
  for (char c : replace_control_characters(s, /*keep_line_breaks=*/false)) {
    if (std::string_view("\\|<*`").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

}  // namespace aicbench::reports
