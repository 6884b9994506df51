#include "twin/query.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <variant>

namespace allscene::twin {

namespace {

using nlohmann::json;

// ---------------------------------------------------------------- tokens --

enum class Tok {
  end,
  ident,
  string,
  number,
  star,
  comma,
  dot,
  lparen,
  rparen,
  lbracket,
  rbracket,
  eq,
  ne,
  lt,
  gt,
  le,
  ge
};

struct Token {
  Tok kind = Tok::end;
  std::string text;     // identifier as written, or the operator's spelling
  json value;           // string and number literals
  std::size_t pos = 0;  // 1-based character position of its first byte
};

[[noreturn]] void fail(std::string_view what, std::size_t pos) {
  throw QueryError(fmt::format("query: {} at {}", what, pos));
}

// Identifiers may hold UTF-8; messages quote them in printable ASCII only,
// so that the message is valid text whatever the query held.
std::string printable(std::string_view s) {
  constexpr std::size_t kMaxShown = 48;
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < kMaxShown; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    out += (c >= 0x20 && c < 0x7F) ? static_cast<char>(c) : '?';
  }
  if (s.size() > kMaxShown) out += "...";
  return out;
}

std::string describe(const Token& t) {
  switch (t.kind) {
    case Tok::end:
      return "end of query";
    case Tok::string:
      return "a string";
    case Tok::number:
      return "a number";
    default:
      return fmt::format("'{}'", printable(t.text));
  }
}

bool ident_start(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$' || c >= 0x80;
}
bool ident_char(unsigned char c) { return ident_start(c) || (c >= '0' && c <= '9'); }
bool digit(char c) { return c >= '0' && c <= '9'; }

class Lexer {
 public:
  explicit Lexer(std::string_view text) : s_(text) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    for (;;) {
      while (i_ < s_.size() &&
             (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r' || s_[i_] == '\n')) {
        ++i_;
      }
      if (i_ >= s_.size()) {
        out.push_back(Token{Tok::end, {}, {}, s_.size() + 1});
        return out;
      }
      out.push_back(next());
    }
  }

 private:
  Token next() {
    const std::size_t start = i_;
    const char c = s_[i_];
    const auto uc = static_cast<unsigned char>(c);
    if (ident_start(uc)) {
      while (i_ < s_.size() && ident_char(static_cast<unsigned char>(s_[i_]))) ++i_;
      return Token{Tok::ident, std::string(s_.substr(start, i_ - start)), {}, start + 1};
    }
    if (digit(c) || (c == '-' && i_ + 1 < s_.size() && digit(s_[i_ + 1]))) return number();
    if (c == '\'' || c == '"') return quoted(c);
    auto op = [&](Tok kind, std::size_t len) {
      i_ += len;
      return Token{kind, std::string(s_.substr(start, len)), {}, start + 1};
    };
    const char n = i_ + 1 < s_.size() ? s_[i_ + 1] : '\0';
    switch (c) {
      case '*':
        return op(Tok::star, 1);
      case ',':
        return op(Tok::comma, 1);
      case '.':
        return op(Tok::dot, 1);
      case '(':
        return op(Tok::lparen, 1);
      case ')':
        return op(Tok::rparen, 1);
      case '[':
        return op(Tok::lbracket, 1);
      case ']':
        return op(Tok::rbracket, 1);
      case '=':
        return op(Tok::eq, 1);
      case '!':
        if (n == '=') return op(Tok::ne, 2);
        fail("'!' must be followed by '='", start + 1);
      case '<':
        if (n == '=') return op(Tok::le, 2);
        if (n == '>') return op(Tok::ne, 2);
        return op(Tok::lt, 1);
      case '>':
        if (n == '=') return op(Tok::ge, 2);
        return op(Tok::gt, 1);
      default:
        break;
    }
    if (uc >= 0x20 && uc < 0x7F) fail(fmt::format("unexpected character '{}'", c), start + 1);
    fail(fmt::format("unexpected byte 0x{:02X}", static_cast<unsigned>(uc)), start + 1);
  }

  // -?digits[.digits][(e|E)[+|-]digits]; integers that fit are kept exact.
  Token number() {
    const std::size_t start = i_;
    bool integral = true;
    if (s_[i_] == '-') ++i_;
    while (i_ < s_.size() && digit(s_[i_])) ++i_;
    if (i_ < s_.size() && s_[i_] == '.') {
      integral = false;
      ++i_;
      if (i_ >= s_.size() || !digit(s_[i_])) fail("malformed number", start + 1);
      while (i_ < s_.size() && digit(s_[i_])) ++i_;
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      integral = false;
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (i_ >= s_.size() || !digit(s_[i_])) fail("malformed number", start + 1);
      while (i_ < s_.size() && digit(s_[i_])) ++i_;
    }
    if (i_ < s_.size() && (ident_char(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.')) {
      fail("malformed number", start + 1);
    }
    const char* first = s_.data() + start;
    const char* last = s_.data() + i_;
    Token t{Tok::number, std::string(first, last), {}, start + 1};
    if (integral) {
      std::int64_t v = 0;
      const auto r = std::from_chars(first, last, v);
      if (r.ec == std::errc() && r.ptr == last) {
        t.value = v;
        return t;
      }
    }
    double d = 0;
    const auto r = std::from_chars(first, last, d);
    if (r.ec != std::errc() || r.ptr != last || !std::isfinite(d)) {
      fail("number out of range", start + 1);
    }
    t.value = d;
    return t;
  }

  // 'it''s' or "say ""hi""": the quote doubled stands for itself; no
  // backslash escapes.
  Token quoted(char quote) {
    const std::size_t start = i_;
    std::string out;
    ++i_;
    for (;;) {
      if (i_ >= s_.size()) fail("unterminated string", start + 1);
      const char c = s_[i_++];
      if (c == quote) {
        if (i_ < s_.size() && s_[i_] == quote) {
          out += quote;
          ++i_;
          continue;
        }
        break;
      }
      out += c;
    }
    Token t{Tok::string, std::string(1, quote), {}, start + 1};
    t.value = std::move(out);
    return t;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

// ------------------------------------------------------------ expression --

struct Path {
  std::vector<std::string> segments;
  std::string text;  // dotted, for messages
  std::size_t pos = 0;
};

struct Operand {
  std::variant<Path, json> v;  // a path into the twin, or a literal
};

enum class Cmp { eq, ne, lt, gt, le, ge };

enum class Fn {
  is_defined,
  is_null,
  is_string,
  is_number,
  is_bool,
  is_object,
  is_array,
  starts_with,
  ends_with
};

struct FnName {
  std::string_view name;
  Fn fn;
};
constexpr std::array<FnName, 9> kFunctions{{{"IS_DEFINED", Fn::is_defined},
                                            {"IS_NULL", Fn::is_null},
                                            {"IS_STRING", Fn::is_string},
                                            {"IS_NUMBER", Fn::is_number},
                                            {"IS_BOOL", Fn::is_bool},
                                            {"IS_OBJECT", Fn::is_object},
                                            {"IS_ARRAY", Fn::is_array},
                                            {"STARTSWITH", Fn::starts_with},
                                            {"ENDSWITH", Fn::ends_with}}};

struct Expr {
  enum class Kind { all, any, negate, compare, in, nin, function };
  Kind kind = Kind::compare;
  std::vector<std::unique_ptr<const Expr>> kids;  // all, any, negate
  Operand lhs;                                    // compare, in, nin
  Operand rhs;                                    // compare
  Cmp cmp = Cmp::eq;
  std::vector<json> list;  // in, nin
  Fn fn = Fn::is_defined;
  Path path;        // function
  std::string arg;  // starts_with, ends_with
};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

constexpr std::array<std::string_view, 14> kReserved{"select", "from", "where", "and", "or",
                                                     "not",    "in",   "nin",   "as",  "group",
                                                     "by",     "true", "false", "null"};

bool reserved(const Token& t) {
  if (t.kind != Tok::ident) return false;
  for (auto word : kReserved) {
    if (iequals(t.text, word)) return true;
  }
  return false;
}

}  // namespace

struct Query::Impl {
  struct Column {
    Path path;
    std::string name;
  };
  bool star = false;
  std::vector<Column> columns;
  bool count = false;
  std::string count_name = "count";
  std::optional<Path> group_by;
  std::unique_ptr<const Expr> where;
};

namespace {

// query := SELECT list FROM devices [WHERE or] [GROUP BY path]
// or    := and (OR and)*        and := not (AND not)*
// not   := NOT not | primary
// primary := '(' or ')' | FUNCTION '(' path [',' string] ')'
//          | operand (cmp operand | IN list | NIN list)
class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : t_(std::move(tokens)) {}

  Query::Impl query() {
    Query::Impl q;
    if (!accept_keyword("select")) fail_here("query must start with SELECT");
    select_list(q);
    if (!accept_keyword("from")) fail_here("expected FROM after the select list");
    from();
    if (accept_keyword("where")) q.where = disjunction(0);
    if (accept_keyword("group")) {
      if (!accept_keyword("by")) fail_here("expected BY after GROUP");
      q.group_by = path("a path after GROUP BY");
    }
    if (peek().kind != Tok::end) {
      fail(fmt::format("unexpected {} after the end of the query", describe(peek())), peek().pos);
    }
    check(q);
    return q;
  }

 private:
  const Token& peek(std::size_t ahead = 0) const {
    const std::size_t i = std::min(i_ + ahead, t_.size() - 1);
    return t_[i];
  }
  const Token& take() {
    const Token& t = t_[i_];
    if (i_ + 1 < t_.size()) ++i_;
    return t;
  }
  bool accept(Tok kind) {
    if (peek().kind != kind) return false;
    take();
    return true;
  }
  bool is_keyword(const Token& t, std::string_view word) const {
    return t.kind == Tok::ident && iequals(t.text, word);
  }
  bool accept_keyword(std::string_view word) {
    if (!is_keyword(peek(), word)) return false;
    take();
    return true;
  }
  [[noreturn]] void fail_here(std::string_view expected) const {
    fail(fmt::format("{}, found {}", expected, describe(peek())), peek().pos);
  }
  void expect(Tok kind, std::string_view expected) {
    if (!accept(kind)) fail_here(expected);
  }

  Path path(std::string_view expected) {
    const Token& first = peek();
    if (first.kind != Tok::ident || reserved(first))
      fail_here(fmt::format("expected {}", expected));
    Path p;
    p.pos = first.pos;
    p.segments.push_back(take().text);
    while (accept(Tok::dot)) {
      if (peek().kind != Tok::ident) fail_here("expected a name after '.'");
      p.segments.push_back(take().text);
    }
    for (const auto& s : p.segments) p.text += (p.text.empty() ? "" : ".") + s;
    return p;
  }

  std::string alias() {
    if (!accept_keyword("as")) return {};
    if (peek().kind != Tok::ident || reserved(peek())) fail_here("expected a name after AS");
    return take().text;
  }

  void select_list(Query::Impl& q) {
    if (accept(Tok::star)) {
      q.star = true;
      return;
    }
    std::map<std::string, std::size_t> names;  // name -> position, to refuse duplicates
    auto add_name = [&](const std::string& name, std::size_t pos) {
      if (!names.emplace(name, pos).second) {
        fail(fmt::format("duplicate column name '{}'", printable(name)), pos);
      }
    };
    do {
      const Token& start = peek();
      if (is_keyword(start, "count") && peek(1).kind == Tok::lparen) {
        if (q.count) fail("COUNT() may appear only once", start.pos);
        take();
        take();
        expect(Tok::rparen, "expected ')' after COUNT(: COUNT takes no arguments");
        q.count = true;
        if (auto a = alias(); !a.empty()) q.count_name = a;
        add_name(q.count_name, start.pos);
        continue;
      }
      Query::Impl::Column c{path("a path, COUNT() or '*' in the select list"), {}};
      c.name = alias();
      if (c.name.empty()) c.name = c.path.segments.back();
      add_name(c.name, c.path.pos);
      q.columns.push_back(std::move(c));
    } while (accept(Tok::comma));
  }

  void from() {
    const Path p = path("devices after FROM");
    if (p.segments.size() != 1 || !iequals(p.text, "devices")) {
      fail(fmt::format("only FROM devices is supported, not '{}'", printable(p.text)), p.pos);
    }
  }

  void check(const Query::Impl& q) const {
    if (q.group_by && !q.count) fail("GROUP BY needs COUNT() in the select list", q.group_by->pos);
    for (const auto& c : q.columns) {
      if (q.count && !q.group_by) {
        fail(fmt::format("'{}' cannot be selected beside COUNT() without GROUP BY",
                         printable(c.path.text)),
             c.path.pos);
      }
      if (q.group_by && c.path.segments != q.group_by->segments) {
        fail(fmt::format("'{}' is not the GROUP BY path", printable(c.path.text)), c.path.pos);
      }
    }
    if (q.group_by && q.columns.empty() && q.group_by->segments.back() == q.count_name) {
      fail(fmt::format("duplicate column name '{}'", printable(q.count_name)), q.group_by->pos);
    }
  }

  std::unique_ptr<const Expr> disjunction(int depth) {
    return chain(depth, "or", Expr::Kind::any, [this](int d) { return conjunction(d); });
  }
  std::unique_ptr<const Expr> conjunction(int depth) {
    return chain(depth, "and", Expr::Kind::all, [this](int d) { return negation(d); });
  }
  template <typename Next>
  std::unique_ptr<const Expr> chain(int depth, std::string_view word, Expr::Kind kind, Next next) {
    auto first = next(depth);
    if (!is_keyword(peek(), word)) return first;
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->kids.push_back(std::move(first));
    while (accept_keyword(word)) e->kids.push_back(next(depth));
    return e;
  }

  std::unique_ptr<const Expr> negation(int depth) {
    if (depth > Query::kMaxDepth) {
      fail(fmt::format("conditions nested deeper than {}", Query::kMaxDepth), peek().pos);
    }
    if (!accept_keyword("not")) return primary(depth);
    auto e = std::make_unique<Expr>();
    e->kind = Expr::Kind::negate;
    e->kids.push_back(negation(depth + 1));
    return e;
  }

  std::unique_ptr<const Expr> primary(int depth) {
    if (peek().kind == Tok::lparen) {
      const std::size_t open = take().pos;
      auto inner = disjunction(depth + 1);
      if (!accept(Tok::rparen)) fail_here(fmt::format("expected ')' to close the '(' at {}", open));
      return inner;
    }
    if (peek().kind == Tok::ident && peek(1).kind == Tok::lparen && !reserved(peek())) {
      return function();
    }
    auto e = std::make_unique<Expr>();
    e->lhs = operand("a condition");
    const Token& op = peek();
    static constexpr std::array<std::pair<Tok, Cmp>, 6> kOps{{{Tok::eq, Cmp::eq},
                                                              {Tok::ne, Cmp::ne},
                                                              {Tok::lt, Cmp::lt},
                                                              {Tok::gt, Cmp::gt},
                                                              {Tok::le, Cmp::le},
                                                              {Tok::ge, Cmp::ge}}};
    for (const auto& [tok, cmp] : kOps) {
      if (op.kind != tok) continue;
      const std::string spelling = take().text;
      e->kind = Expr::Kind::compare;
      e->cmp = cmp;
      e->rhs = operand(fmt::format("a value after '{}'", spelling));
      return e;
    }
    if (accept_keyword("in")) {
      e->kind = Expr::Kind::in;
    } else if (accept_keyword("nin")) {
      e->kind = Expr::Kind::nin;
    } else {
      fail_here("expected a comparison operator, IN or NIN");
    }
    e->list = list();
    return e;
  }

  std::optional<json> maybe_literal() {
    const Token& t = peek();
    json v;
    if (t.kind == Tok::string || t.kind == Tok::number) {
      v = t.value;
    } else if (is_keyword(t, "true")) {
      v = true;
    } else if (is_keyword(t, "false")) {
      v = false;
    } else if (is_keyword(t, "null")) {
      v = nullptr;
    } else {
      return std::nullopt;
    }
    take();
    return v;
  }

  Operand operand(std::string_view expected) {
    if (auto lit = maybe_literal()) return Operand{std::move(*lit)};
    return Operand{path(expected)};
  }

  json literal(std::string_view expected) {
    if (auto lit = maybe_literal()) return std::move(*lit);
    fail_here(fmt::format("expected {}", expected));
  }

  std::vector<json> list() {
    expect(Tok::lbracket, "expected '[' to start the list");
    std::vector<json> out;
    if (accept(Tok::rbracket)) return out;
    do {
      out.push_back(literal("a string, number, true, false or null in the list"));
    } while (accept(Tok::comma));
    expect(Tok::rbracket, "expected ',' or ']' in the list");
    return out;
  }

  std::unique_ptr<const Expr> function() {
    const Token& name = take();
    const FnName* found = nullptr;
    for (const auto& f : kFunctions) {
      if (iequals(name.text, f.name)) found = &f;
    }
    if (found == nullptr) {
      fail(fmt::format("unknown function '{}'", printable(name.text)), name.pos);
    }
    take();  // '('
    auto e = std::make_unique<Expr>();
    e->kind = Expr::Kind::function;
    e->fn = found->fn;
    e->path = path(fmt::format("a path as the argument of {}", found->name));
    if (e->fn == Fn::starts_with || e->fn == Fn::ends_with) {
      expect(Tok::comma,
             fmt::format("expected ',' and a string after the path in {}", found->name));
      if (peek().kind != Tok::string) {
        fail_here(fmt::format("expected a string as the second argument of {}", found->name));
      }
      e->arg = take().value.get<std::string>();
    }
    expect(Tok::rparen, fmt::format("expected ')' to close {}(", found->name));
    return e;
  }

  std::vector<Token> t_;
  std::size_t i_ = 0;
};

// ------------------------------------------------------------ evaluation --

// SQL's three values: a comparison involving a missing path or values of
// different types is unknown, and so is NOT unknown; only true matches.
enum class Tri { no, yes, unknown };

Tri tri(bool b) { return b ? Tri::yes : Tri::no; }

const json* resolve(const json& root, const Path& p) {
  const json* at = &root;
  for (const auto& segment : p.segments) {
    if (!at->is_object()) return nullptr;
    const auto it = at->find(segment);
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at;
}

const json* value(const Operand& o, const json& twin) {
  if (const auto* p = std::get_if<Path>(&o.v)) return resolve(twin, *p);
  return &std::get<json>(o.v);
}

enum class Type { null, boolean, number, string, object, array, other };

Type type_of(const json& j) {
  if (j.is_null()) return Type::null;
  if (j.is_boolean()) return Type::boolean;
  if (j.is_number()) return Type::number;
  if (j.is_string()) return Type::string;
  if (j.is_object()) return Type::object;
  if (j.is_array()) return Type::array;
  return Type::other;
}

Tri compare(const json* a, const json* b, Cmp cmp) {
  if (a == nullptr || b == nullptr) return Tri::unknown;
  const Type type = type_of(*a);
  if (type != type_of(*b) || type == Type::other) return Tri::unknown;
  if (cmp == Cmp::eq) return tri(*a == *b);
  if (cmp == Cmp::ne) return tri(*a != *b);
  if (type != Type::number && type != Type::string) return Tri::unknown;
  switch (cmp) {
    case Cmp::lt:
      return tri(*a < *b);
    case Cmp::gt:
      return tri(*b < *a);
    case Cmp::le:
      return tri(!(*b < *a));
    default:
      return tri(!(*a < *b));
  }
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Tri call(const Expr& e, const json& twin) {
  const json* v = resolve(twin, e.path);
  switch (e.fn) {
    case Fn::is_defined:
      return tri(v != nullptr);
    case Fn::is_null:
      return tri(v != nullptr && v->is_null());
    case Fn::is_string:
      return tri(v != nullptr && v->is_string());
    case Fn::is_number:
      return tri(v != nullptr && v->is_number());
    case Fn::is_bool:
      return tri(v != nullptr && v->is_boolean());
    case Fn::is_object:
      return tri(v != nullptr && v->is_object());
    case Fn::is_array:
      return tri(v != nullptr && v->is_array());
    case Fn::starts_with:
    case Fn::ends_with:
      break;
  }
  if (v == nullptr || !v->is_string()) return Tri::unknown;
  const auto& s = v->get_ref<const std::string&>();
  return tri(e.fn == Fn::starts_with ? s.rfind(e.arg, 0) == 0 : ends_with(s, e.arg));
}

Tri eval(const Expr& e, const json& twin) {
  switch (e.kind) {
    case Expr::Kind::all: {
      Tri out = Tri::yes;
      for (const auto& k : e.kids) {
        const Tri r = eval(*k, twin);
        if (r == Tri::no) return Tri::no;
        if (r == Tri::unknown) out = Tri::unknown;
      }
      return out;
    }
    case Expr::Kind::any: {
      Tri out = Tri::no;
      for (const auto& k : e.kids) {
        const Tri r = eval(*k, twin);
        if (r == Tri::yes) return Tri::yes;
        if (r == Tri::unknown) out = Tri::unknown;
      }
      return out;
    }
    case Expr::Kind::negate: {
      const Tri r = eval(*e.kids.front(), twin);
      return r == Tri::unknown ? r : tri(r == Tri::no);
    }
    case Expr::Kind::compare:
      return compare(value(e.lhs, twin), value(e.rhs, twin), e.cmp);
    case Expr::Kind::in:
    case Expr::Kind::nin: {
      // A defined value is either in the list or not, whatever its type.
      const json* v = value(e.lhs, twin);
      if (v == nullptr) return Tri::unknown;
      bool found = false;
      for (const auto& item : e.list) {
        if (compare(v, &item, Cmp::eq) == Tri::yes) found = true;
      }
      return tri(found == (e.kind == Expr::Kind::in));
    }
    case Expr::Kind::function:
      return call(e, twin);
  }
  return Tri::unknown;
}

}  // namespace

Query Query::parse(std::string_view text) {
  if (text.size() > kMaxLength) {
    throw QueryError(
        fmt::format("query: {} bytes is longer than the limit of {}", text.size(), kMaxLength));
  }
  Parser parser(Lexer(text).run());
  return Query(std::make_shared<const Impl>(parser.query()));
}

bool Query::matches(const json& twin) const {
  return !impl_->where || eval(*impl_->where, twin) == Tri::yes;
}

bool Query::is_aggregate() const { return impl_->count; }

json Query::project(const json& twin) const {
  if (impl_->count) throw std::logic_error("Query::project called on an aggregate query");
  if (impl_->star) return twin;
  json row = json::object();
  for (const auto& c : impl_->columns) {
    if (const json* v = resolve(twin, c.path)) row[c.name] = *v;
  }
  return row;
}

json Query::aggregate(const std::vector<const json*>& matching) const {
  if (!impl_->count) throw std::logic_error("Query::aggregate called on a query without COUNT()");
  for (const json* twin : matching) {
    if (twin == nullptr) throw std::logic_error("Query::aggregate given a null twin");
  }
  if (!impl_->group_by) {
    return json::array({{{impl_->count_name, static_cast<std::int64_t>(matching.size())}}});
  }
  struct Group {
    const json* value;  // null: twins without the grouping path
    std::int64_t count;
  };
  std::vector<Group> groups;
  std::map<json, std::size_t> index;
  std::optional<std::size_t> missing;
  for (const json* twin : matching) {
    const json* v = resolve(*twin, *impl_->group_by);
    std::size_t at = groups.size();
    if (v == nullptr) {
      if (!missing) missing = at;
      at = *missing;
    } else {
      at = index.emplace(*v, at).first->second;
    }
    if (at == groups.size()) groups.push_back(Group{v, 0});
    ++groups[at].count;
  }
  json rows = json::array();
  for (const auto& g : groups) {
    json row = {{impl_->count_name, g.count}};
    if (g.value != nullptr) {
      if (impl_->columns.empty()) row[impl_->group_by->segments.back()] = *g.value;
      for (const auto& c : impl_->columns) row[c.name] = *g.value;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace allscene::twin
