#include "control/jsonrpc_codec.h"

#include <gtest/gtest.h>

#include <string>

namespace tern::jsonrpc {
namespace {

TEST(LineSplitter, SplitsLinesAcrossAppends) {
  LineSplitter s;
  std::string line;
  s.append("{\"a\":");
  EXPECT_EQ(s.next(&line), LineSplitter::Next::kNeedMore);
  s.append("1}\n{\"b\":2}\r\n{\"c\"");
  ASSERT_EQ(s.next(&line), LineSplitter::Next::kLine);
  EXPECT_EQ(line, "{\"a\":1}");
  ASSERT_EQ(s.next(&line), LineSplitter::Next::kLine);
  EXPECT_EQ(line, "{\"b\":2}");  // CR stripped
  EXPECT_EQ(s.next(&line), LineSplitter::Next::kNeedMore);
  EXPECT_EQ(s.buffered(), 4u);
  s.append(":3}\n");
  ASSERT_EQ(s.next(&line), LineSplitter::Next::kLine);
  EXPECT_EQ(line, "{\"c\":3}");
  EXPECT_EQ(s.buffered(), 0u);
}

TEST(LineSplitter, EmptyLines) {
  LineSplitter s;
  std::string line = "x";
  s.append("\n\n");
  ASSERT_EQ(s.next(&line), LineSplitter::Next::kLine);
  EXPECT_EQ(line, "");
  ASSERT_EQ(s.next(&line), LineSplitter::Next::kLine);
  EXPECT_EQ(s.next(&line), LineSplitter::Next::kNeedMore);
}

TEST(LineSplitter, LineLimitWithoutNewline) {
  LineSplitter s(16);
  std::string line;
  s.append(std::string(16, 'a'));
  EXPECT_EQ(s.next(&line), LineSplitter::Next::kNeedMore);  // exactly the limit: still fine
  s.append("b");
  EXPECT_EQ(s.next(&line), LineSplitter::Next::kTooLong);
  // Sticky: nothing after an overlong line is trusted.
  s.append("\n{}\n");
  EXPECT_EQ(s.next(&line), LineSplitter::Next::kTooLong);
  EXPECT_EQ(s.buffered(), 4u);
}

TEST(LineSplitter, LineLimitWithNewlineInSameChunk) {
  LineSplitter s(8);
  std::string line;
  s.append("12345678\n123456789\n");
  ASSERT_EQ(s.next(&line), LineSplitter::Next::kLine);
  EXPECT_EQ(line, "12345678");
  EXPECT_EQ(s.next(&line), LineSplitter::Next::kTooLong);
}

TEST(LineSplitter, ByteAtATimeStaysBounded) {
  LineSplitter s(64);
  std::string line;
  int lines = 0;
  std::string msg = "{\"jsonrpc\":\"2.0\",\"method\":\"x\"}\n";
  for (int rep = 0; rep < 100; ++rep) {
    for (char c : msg) {
      s.append(absl::string_view(&c, 1));
      while (s.next(&line) == LineSplitter::Next::kLine) {
        EXPECT_EQ(line + "\n", msg);
        ++lines;
      }
    }
  }
  EXPECT_EQ(lines, 100);
  EXPECT_EQ(s.buffered(), 0u);
}

TEST(NestingDepth, CountsOutsideStrings) {
  EXPECT_EQ(nesting_depth("{}"), 1);
  EXPECT_EQ(nesting_depth("[[{\"a\":[1]}]]"), 4);
  EXPECT_EQ(nesting_depth("\"[[[[\""), 0);
  EXPECT_EQ(nesting_depth("{\"a\\\"[[\":[]}"), 2);           // escaped quote inside a string
  EXPECT_EQ(nesting_depth(std::string(1000, '['), 10), 10);  // stops at the limit
}

TEST(ParseLine, ValidObject) {
  Parsed p = parse_line(R"({"jsonrpc":"2.0","method":"m","params":{"x":[1,2]},"id":7})");
  ASSERT_EQ(p.error, 0) << p.message;
  EXPECT_EQ(p.value["params"]["x"][1], 2);
}

TEST(ParseLine, GarbageIsParseErrorWithReason) {
  for (const char* bad : {"{", "{\"a\":}", "nul", "[1,]", "{'a':1}", "\x01", "{\"a\":1} x"}) {
    Parsed p = parse_line(bad);
    EXPECT_EQ(p.error, kParseError) << bad;
    EXPECT_FALSE(p.message.empty()) << bad;
  }
}

TEST(ParseLine, InvalidUtf8IsParseError) {
  Parsed p = parse_line("{\"a\":\"\xff\xfe\"}");
  EXPECT_EQ(p.error, kParseError);
}

TEST(ParseLine, UnicodeRoundTrips) {
  Parsed p = parse_line(R"({"s":"h\u00e9llo \ud83d\ude00 日本"})");
  ASSERT_EQ(p.error, 0) << p.message;
  EXPECT_EQ(p.value["s"], "h\xc3\xa9llo \xf0\x9f\x98\x80 \xe6\x97\xa5\xe6\x9c\xac");
  std::string out = encode(p.value);
  EXPECT_EQ(out, "{\"s\":\"h\xc3\xa9llo \xf0\x9f\x98\x80 \xe6\x97\xa5\xe6\x9c\xac\"}\n");
}

TEST(ParseLine, LoneSurrogateIsParseError) {
  EXPECT_EQ(parse_line(R"({"s":"\ud83d"})").error, kParseError);
}

TEST(ParseLine, DeepNestingBounded) {
  std::string ok = std::string(kMaxDepth, '[') + std::string(kMaxDepth, ']');
  EXPECT_EQ(parse_line(ok).error, 0);
  std::string deep = std::string(kMaxDepth + 1, '[') + std::string(kMaxDepth + 1, ']');
  Parsed p = parse_line(deep);
  EXPECT_EQ(p.error, kInvalidRequest);
  EXPECT_NE(p.message.find("nested deeper"), std::string::npos);
  // A million brackets: rejected by the scan, no recursion.
  EXPECT_EQ(parse_line(std::string(1 << 20, '[')).error, kInvalidRequest);
}

TEST(Encode, OneLineAndInvalidUtf8Replaced) {
  json j = {{"a", "line1\nline2"}, {"b", std::string("\xff")}};
  std::string out = encode(j);
  EXPECT_EQ(out.find('\n'), out.size() - 1);
  EXPECT_NE(out.find("\\n"), std::string::npos);
  EXPECT_NE(out.find("\xef\xbf\xbd"), std::string::npos);  // U+FFFD
}

TEST(Builders, ShapeOfMessages) {
  EXPECT_EQ(make_result(1, json{{"ok", true}}),
            json::parse(R"({"jsonrpc":"2.0","result":{"ok":true},"id":1})"));
  EXPECT_EQ(make_error("a", kMethodNotFound, "Method not found"),
            json::parse(R"({"jsonrpc":"2.0","error":{"code":-32601,
                        "message":"Method not found"},"id":"a"})"));
  EXPECT_EQ(make_field_error(nullptr, kInvalidParams, "Invalid params", "params.x", "required"),
            json::parse(R"({"jsonrpc":"2.0","error":{"code":-32602,"message":"Invalid params",
                        "data":{"field":"params.x","reason":"required"}},"id":null})"));
  EXPECT_EQ(make_event(json{{"topic", "stats"}}),
            json::parse(R"({"jsonrpc":"2.0","method":"event","params":{"topic":"stats"}})"));
  EXPECT_STREQ(error_message(kParseError), "Parse error");
  EXPECT_STREQ(error_message(kInternalError), "Internal error");
  EXPECT_STREQ(error_message(-32099), "Server error");
}

}  // namespace
}  // namespace tern::jsonrpc
