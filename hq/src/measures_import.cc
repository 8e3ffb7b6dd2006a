#include "measures_import.h"

#include <boost/json.hpp>

#include "kassa/config/store_config_json.h"
#include "kassa/model/clienteling.h"
#include "kassa/model/limits.h"

namespace kassa::hq {
namespace json = boost::json;
namespace {

Status Add(MeasuresByAccount& out, const std::string& account, model::AttributeValue m, const std::string& where,
           std::string& field) {
  if (account.empty() || account.size() > model::kMaxAccountBytes) {
    return InvalidAt(field, where + "account", "1 to 20 characters");
  }
  if (m.name.empty() || m.name.size() > model::kMaxAttributeNameBytes) {
    return InvalidAt(field, where + "name", "1 to 32 bytes");
  }
  if (m.value.size() > model::kMaxAttributeValueBytes) return InvalidAt(field, where + "value", "at most 100 bytes");
  auto& list = out[account];
  for (const auto& existing : list) {
    if (existing.name == m.name) return InvalidAt(field, where + "name", "given twice for the account");
  }
  if (list.size() == model::kMaxMeasures) return InvalidAt(field, where + "account", "more than 3 measures");
  list.push_back(std::move(m));
  return Status::Ok();
}

// Splits one CSV line into fields; nullopt on an unterminated quote.
std::optional<std::vector<std::string>> CsvFields(std::string_view line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char ch = line[i];
    if (quoted) {
      if (ch == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back().push_back('"');
        ++i;
      } else if (ch == '"') {
        quoted = false;
      } else {
        fields.back().push_back(ch);
      }
    } else if (ch == '"') {
      quoted = true;
    } else if (ch == ',') {
      fields.emplace_back();
    } else {
      fields.back().push_back(ch);
    }
  }
  if (quoted) return std::nullopt;
  return fields;
}

}  // namespace

Status ParseMeasuresJson(std::string_view body, MeasuresByAccount& out, std::string& field) {
  field.clear();
  boost::system::error_code ec;
  const json::value root = json::parse(body, ec);
  if (ec) return InvalidAt(field, "body", "not valid JSON");
  const json::value* list = root.is_object() ? root.get_object().if_contains("measures") : nullptr;
  if (list == nullptr || !list->is_array() || root.get_object().size() != 1) {
    return InvalidAt(field, "body", "must be {\"measures\": [...]}");
  }
  std::size_t i = 0;
  for (const auto& e : list->get_array()) {
    const std::string at = "measures[" + std::to_string(i++) + "].";
    const json::value* account = e.is_object() ? e.get_object().if_contains("account") : nullptr;
    const json::value* values = e.is_object() ? e.get_object().if_contains("values") : nullptr;
    if (account == nullptr || !account->is_string()) return InvalidAt(field, at + "account", "required, a string");
    if (values == nullptr || !values->is_array()) {
      return InvalidAt(field, at + "values", "required, an array of {name, value}");
    }
    if (e.get_object().size() != 2) return InvalidAt(field, at.substr(0, at.size() - 1), "only account and values");
    std::size_t j = 0;
    for (const auto& v : values->get_array()) {
      const std::string vat = at + "values[" + std::to_string(j++) + "].";
      const json::value* name = v.is_object() ? v.get_object().if_contains("name") : nullptr;
      const json::value* value = v.is_object() ? v.get_object().if_contains("value") : nullptr;
      if (name == nullptr || !name->is_string()) return InvalidAt(field, vat + "name", "required, a string");
      if (value == nullptr || !value->is_string()) return InvalidAt(field, vat + "value", "required, a string");
      KASSA_TRY(Add(out, std::string(account->get_string()),
                    {std::string(name->get_string()), std::string(value->get_string())}, vat, field));
    }
  }
  return Status::Ok();
}

Status ParseMeasuresCsv(std::string_view body, MeasuresByAccount& out, std::string& field) {
  field.clear();
  std::size_t line_no = 0;
  bool header = true;
  while (!body.empty()) {
    const auto nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    body.remove_prefix(nl == std::string_view::npos ? body.size() : nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const std::string line_name = "line " + std::to_string(line_no);
    const auto fields = CsvFields(line);
    if (!fields) return InvalidAt(field, line_name, "an unterminated quote");
    if (header) {
      if (*fields != std::vector<std::string>{"account", "name", "value"}) {
        return InvalidAt(field, line_name, "the header must be account,name,value");
      }
      header = false;
      continue;
    }
    if (fields->size() != 3) return InvalidAt(field, line_name, "three fields: account,name,value");
    KASSA_TRY(Add(out, (*fields)[0], {(*fields)[1], (*fields)[2]}, line_name + ".", field));
  }
  if (header) return InvalidAt(field, "line 1", "the header must be account,name,value");
  return Status::Ok();
}

}  // namespace kassa::hq
