#pragma once
// Turning values into text for the report pages and exports: numbers to a few significant
// digits, times in a unit a person reads, and escaping for each output language. Every function
// here is total: any double (huge, tiny, negative) and any string (NUL, control characters,
// quotes) gives text, never an exception.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aicbench::reports {

std::string printf_double(const char* format, double value);

// Three significant digits, without an exponent in the usual range: 0.412, 5.20, 51.2, 512,
// 1234; an exponent past a million or below 1e-4, where digits stop meaning anything to a reader.
std::string sig3(double value);

// A count or another whole number: "57", "1500"; sig3's form past 1e15, where %.0f stops being exact.
std::string whole_number(double value);

// A time in seconds in the unit that reads best: "812 ns", "41.0 µs", "1.52 ms", "3.20 s".
std::string human_time(double seconds);

// Seconds per unit of Google Benchmark's time_unit ("ns", "us", "ms", "s"); nullopt if unknown.
std::optional<double> seconds_per_time_unit(std::string_view unit);

std::string join(const std::vector<std::string>& parts, const std::string& separator);  // skips empty parts
void replace_all(std::string& s, std::string_view from, std::string_view to);

// Control characters (U+0000..U+001F except tab, LF and CR, and U+007F) replaced by U+FFFD, the
// replacement character: they are illegal in XML 1.0, a parse error in HTML, and break CSV and
// gnuplot readers. With `keep_line_breaks` false, tab, LF and CR become spaces too.
std::string replace_control_characters(std::string_view s, bool keep_line_breaks = true);

// & < > " ' escaped, control characters replaced: safe in HTML and XML text and attributes.
std::string markup_escape(std::string_view s);

// The start of every self-contained aicbench HTML page, up to and including <body>: doctype,
// UTF-8, the title (escaped here) and the page's CSS.
std::string html_page_head(std::string_view title, std::string_view style);
// The body and heading styles the report, accept and fleet pages share.
inline constexpr std::string_view kPageBaseStyle =
    "body { font-family: system-ui, sans-serif; color: #222; max-width: 1600px; margin: 2rem auto; padding: 0 1rem; }\n"
    "h1 { font-size: 1.6rem; }  h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }\n";

// markup_escape, and U+FFFE and U+FFFF (noncharacters XML 1.0 forbids) replaced by U+FFFD too:
// for XML documents (JUnit).
std::string xml_escape(std::string_view s);

// A table cell of Markdown: the characters that would end the cell or start markup escaped,
// line breaks as spaces.
std::string markdown_escape(std::string_view s);

}  // namespace aicbench::reports
