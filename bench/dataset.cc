#include "dataset.h"

#include <array>
#include <cmath>
#include <cstdio>
#include <span>

#include "kassa/model/text.h"

namespace kassa::bench {
namespace {

namespace m = model;

// splitmix64: a small, fast generator that is good enough for test data and
// identical everywhere (std:: distributions are not).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::size_t Below(std::size_t n) { return static_cast<std::size_t>(Next() % n); }
  // Skewed towards the front of a list, as real name frequencies are: the
  // first of 24 names is drawn 12% of the time, the last 2.7%.
  std::size_t Skewed(std::size_t n) {
    const double u = static_cast<double>(Next() >> 11) / 9007199254740992.0;
    return static_cast<std::size_t>(std::pow(u, 1.5) * static_cast<double>(n));
  }
  bool Percent(unsigned p) { return Below(100) < p; }
  std::string Digits(int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += static_cast<char>('0' + Below(10));
    return s;
  }

 private:
  std::uint64_t state_;
};

struct Locale {
  const char* country;
  const char* currency;
  const char* language;
  std::span<const char* const> female;
  std::span<const char* const> male;
  std::span<const char* const> surnames_female;  // same order as surnames_male
  std::span<const char* const> surnames_male;
  std::span<const char* const> streets;
  std::span<const char* const> cities;
  std::span<const char* const> email_domains;
};

constexpr std::array<const char*, 20> kLvFemale = {
    "Anna", "Līga", "Ilze", "Kristīne", "Inese", "Laura", "Elīna", "Dace", "Sandra", "Marta",
    "Agnese", "Zane", "Evija", "Ieva", "Baiba", "Jolanta", "Gunta", "Sarmīte", "Anete", "Rūta"};
constexpr std::array<const char*, 20> kLvMale = {
    "Jānis", "Andris", "Mārtiņš", "Pēteris", "Edgars", "Kārlis", "Artūrs", "Raivis", "Roberts", "Toms",
    "Aivars", "Juris", "Guntis", "Dāvis", "Oskars", "Valdis", "Uldis", "Ēriks", "Gatis", "Normunds"};
constexpr std::array<const char*, 24> kLvSurnameFemale = {
    "Bērziņa", "Kalniņa", "Ozoliņa", "Jansone", "Ozola", "Liepiņa", "Krūmiņa", "Balode", "Eglīte", "Zariņa",
    "Pētersone", "Vītola", "Kļaviņa", "Kārkliņa", "Vanaga", "Lapiņa", "Grīnberga", "Sproģe", "Dambe", "Siliņa",
    "Lūse", "Strautiņa", "Zvirbule", "Ābele"};
constexpr std::array<const char*, 24> kLvSurnameMale = {
    "Bērziņš", "Kalniņš", "Ozoliņš", "Jansons", "Ozols", "Liepiņš", "Krūmiņš", "Balodis", "Eglītis", "Zariņš",
    "Pētersons", "Vītols", "Kļaviņš", "Kārkliņš", "Vanags", "Lapiņš", "Grīnbergs", "Sproģis", "Dambis", "Siliņš",
    "Lūsis", "Strautiņš", "Zvirbulis", "Ābelis"};
constexpr std::array<const char*, 8> kLvStreets = {"Brīvības iela", "Elizabetes iela", "Krišjāņa Barona iela",
                                                   "Tērbatas iela", "Lāčplēša iela", "Ganību dambis",
                                                   "Dzirnavu iela", "Jūras iela"};
constexpr std::array<const char*, 6> kLvCities = {"Rīga", "Liepāja", "Jelgava", "Daugavpils", "Jūrmala", "Ventspils"};
constexpr std::array<const char*, 4> kLvDomains = {"inbox.lv", "gmail.com", "apollo.lv", "tvnet.lv"};

constexpr std::array<const char*, 20> kFiFemale = {
    "Aino", "Eeva", "Helmi", "Sanna", "Minna", "Johanna", "Kaisa", "Tuula", "Päivi", "Satu",
    "Anne", "Riikka", "Hanna", "Liisa", "Marjatta", "Tiina", "Elina", "Noora", "Sirpa", "Pirjo"};
constexpr std::array<const char*, 20> kFiMale = {
    "Mikko", "Juha", "Timo", "Matti", "Jukka", "Antti", "Ville", "Jyrki", "Sakari", "Pekka",
    "Kari", "Jari", "Markku", "Hannu", "Tapio", "Lauri", "Eero", "Väinö", "Ilkka", "Jussi"};
constexpr std::array<const char*, 24> kFiSurnames = {
    "Korhonen", "Virtanen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine", "Heikkinen",
    "Koskinen", "Järvinen", "Lehtonen", "Lehtinen", "Saarinen", "Salminen", "Heinonen", "Niemi",
    "Heikkilä", "Kinnunen", "Salonen", "Turunen", "Mustonen", "Hiltunen", "Räsänen", "Kähkönen"};
constexpr std::array<const char*, 6> kFiStreets = {"Mannerheimintie", "Hämeenkatu", "Aleksanterinkatu",
                                                   "Itäinen Pitkäkatu", "Kauppakatu", "Rantakatu"};
constexpr std::array<const char*, 5> kFiCities = {"Helsinki", "Espoo", "Tampere", "Turku", "Oulu"};
constexpr std::array<const char*, 3> kFiDomains = {"gmail.com", "outlook.fi", "elisanet.fi"};

constexpr std::array<const char*, 20> kSeFemale = {
    "Maria", "Elisabeth", "Anna", "Kristina", "Margareta", "Eva", "Birgitta", "Karin", "Ingrid", "Åsa",
    "Linnéa", "Sofia", "Emma", "Malin", "Ulla", "Kerstin", "Sara", "Ebba", "Märta", "Astrid"};
constexpr std::array<const char*, 20> kSeMale = {
    "Erik", "Lars", "Karl", "Anders", "Johan", "Per", "Nils", "Björn", "Sven", "Mikael",
    "Jan", "Hans", "Olof", "Gustav", "Magnus", "Fredrik", "Göran", "Ulf", "Håkan", "Oskar"};
constexpr std::array<const char*, 24> kSeSurnames = {
    "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson",
    "Svensson", "Gustafsson", "Pettersson", "Jonsson", "Jansson", "Hansson", "Bengtsson", "Jönsson",
    "Lindberg", "Lindqvist", "Lindström", "Åberg", "Sjöberg", "Ström", "Holm", "Ekström"};
constexpr std::array<const char*, 6> kSeStreets = {"Storgatan", "Drottninggatan", "Kungsgatan", "Vasagatan",
                                                   "Södra Vägen", "Östra Hamngatan"};
constexpr std::array<const char*, 5> kSeCities = {"Stockholm", "Göteborg", "Malmö", "Uppsala", "Västerås"};
constexpr std::array<const char*, 3> kSeDomains = {"telia.com", "gmail.com", "hotmail.se"};

constexpr std::array<const char*, 20> kCnFemale = {"芳", "娜", "秀英", "敏", "静", "丽", "艳", "娟", "秀兰", "霞",
                                                   "婷", "雪", "慧", "琳", "颖", "玲", "红", "梅", "欣", "佳"};
constexpr std::array<const char*, 20> kCnMale = {"伟", "强", "磊", "军", "洋", "勇", "杰", "涛", "明", "超",
                                                 "刚", "平", "辉", "鹏", "华", "飞", "鑫", "波", "斌", "宇"};
constexpr std::array<const char*, 24> kCnSurnames = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵",
                                                     "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
                                                     "何", "林", "高", "罗", "郑", "梁", "谢", "宋"};
constexpr std::array<const char*, 5> kCnStreets = {"长安街", "南京路", "淮海中路", "中山路", "解放路"};
constexpr std::array<const char*, 4> kCnCities = {"北京", "上海", "广州", "深圳"};
constexpr std::array<const char*, 3> kCnDomains = {"qq.com", "163.com", "126.com"};

const Locale kLocales[] = {
    {"LV", "EUR", "lv", kLvFemale, kLvMale, kLvSurnameFemale, kLvSurnameMale, kLvStreets, kLvCities, kLvDomains},
    {"FI", "EUR", "fi", kFiFemale, kFiMale, kFiSurnames, kFiSurnames, kFiStreets, kFiCities, kFiDomains},
    {"SE", "SEK", "sv", kSeFemale, kSeMale, kSeSurnames, kSeSurnames, kSeStreets, kSeCities, kSeDomains},
    {"CN", "CNY", "zh", kCnFemale, kCnMale, kCnSurnames, kCnSurnames, kCnStreets, kCnCities, kCnDomains},
};

const Locale& PickLocale(Rng& rng) {
  const std::size_t p = rng.Below(100);
  return kLocales[p < 40 ? 0 : p < 65 ? 1 : p < 90 ? 2 : 3];
}

const char* PickFrom(Rng& rng, std::span<const char* const> list) { return list[rng.Skewed(list.size())]; }

// A mobile number of the locale's country, E.164.
std::string MobilePhone(Rng& rng, const Locale& l) {
  const std::string c = l.country;
  if (c == "LV") return "+3712" + rng.Digits(7);
  if (c == "FI") return "+35840" + rng.Digits(7);
  if (c == "SE") return "+4670" + rng.Digits(7);
  return "+8613" + rng.Digits(9);
}

std::string PostalCode(Rng& rng, const Locale& l) {
  const std::string c = l.country;
  if (c == "LV") return "LV-" + std::to_string(1001 + rng.Below(4000));
  if (c == "FI") return rng.Digits(3) + "00";
  if (c == "SE") return rng.Digits(3) + " " + rng.Digits(2);
  return rng.Digits(6);
}

m::Consent RandomConsent(Rng& rng, std::int64_t at_ms) {
  m::Consent consent;
  consent.granted = rng.Percent(60);
  consent.captured_at_ms = at_ms;
  consent.operator_id = "W" + rng.Digits(4);
  consent.terminal_id = "RIGA-0" + std::to_string(1 + rng.Below(3));
  return consent;
}

// Customer `index`'s id as a terminal makes it (model::LocalId::Generate):
// time-ordered by its creation, the rest of it random (from the seed).
m::LocalId IdOf(std::uint64_t seed, std::uint64_t index, std::uint64_t space, std::int64_t created_at_ms) {
  Rng rng(seed ^ (index * 0xD1B54A32D192ED03ull) ^ space);
  std::array<std::uint8_t, 10> random{};
  const std::uint64_t a = rng.Next(), b = rng.Next();
  for (std::size_t i = 0; i < 8; ++i) random[i] = static_cast<std::uint8_t>(a >> (8 * i));
  random[8] = static_cast<std::uint8_t>(b);
  random[9] = static_cast<std::uint8_t>(b >> 8);
  return m::LocalId::Version7(created_at_ms, random);
}

// New customers are created after every customer of the data set (whose
// creations span 2015-2025), one a millisecond.
constexpr std::int64_t kNewCustomersFromMs = 1'767'225'600'000;  // 2026-01-01

m::Customer Generate(std::uint64_t seed, std::uint64_t index, bool existing) {
  const std::uint64_t space = existing ? 0 : 0x5EED5EED5EED5EEDull;
  Rng rng(seed * 0x2545F4914F6CDD1Dull + index * 0x9E3779B97F4A7C15ull + space);
  const Locale& l = PickLocale(rng);
  m::Customer c;
  const bool female = rng.Percent(55);
  const std::size_t surname = rng.Skewed(l.surnames_male.size());
  std::string email_local;
  if (rng.Percent(3)) {
    c.type = m::CustomerType::kOrganization;
    c.organization_name = std::string(l.surnames_male[surname]) + (rng.Percent(50) ? " Trading" : " un Partneri");
    email_local = "info." + std::to_string(index);
  } else {
    c.first_name = PickFrom(rng, female ? l.female : l.male);
    c.last_name = (female ? l.surnames_female : l.surnames_male)[surname];
    email_local = std::string(l.country) == "CN"
                      ? "u" + std::to_string(100000 + index)
                      : model::FoldText(c.first_name) + "." + model::FoldText(c.last_name) + std::to_string(index);
  }
  // Unique by construction: every local part ends in the index.
  if (rng.Percent(85)) c.email = email_local + "@" + PickFrom(rng, l.email_domains);
  if (rng.Percent(92)) c.phone = MobilePhone(rng, l);
  const std::int64_t drawn = 1'420'070'400'000 + static_cast<std::int64_t>(rng.Below(11ull * 365 * 86'400'000));
  c.created_at_ms = existing ? drawn : kNewCustomersFromMs + static_cast<std::int64_t>(index);
  c.id = IdOf(seed, index, space, c.created_at_ms);
  c.changed_at_ms = c.created_at_ms + static_cast<std::int64_t>(rng.Below(86'400'000ull * 300));
  if (rng.Percent(30)) {
    c.secondary_emails.push_back({"work" + std::to_string(index) + "@" + PickFrom(rng, l.email_domains),
                                  RandomConsent(rng, c.created_at_ms)});
  }
  if (rng.Percent(20)) c.secondary_phones.push_back({MobilePhone(rng, l), RandomConsent(rng, c.created_at_ms)});
  const std::size_t addresses = 1 + rng.Skewed(3);
  for (std::size_t i = 0; i < addresses; ++i) {
    m::Address a;
    a.purpose = i == 0 ? m::DefaultAddressPurpose(c.type) : (i == 1 ? m::AddressPurpose::kBusiness
                                                                      : m::AddressPurpose::kPostBox);
    a.street = std::string(PickFrom(rng, l.streets)) + " " + std::to_string(1 + rng.Below(120));
    a.city = PickFrom(rng, l.cities);
    a.postal_code = PostalCode(rng, l);
    a.country = l.country;
    c.addresses.push_back(std::move(a));
  }
  // The groups of config/chain.sample.json: organizations are wholesale.
  c.customer_group = c.type == m::CustomerType::kOrganization ? "WHOLESALE" : "RETAIL";
  // Email receipts only for customers with an email, as validation requires.
  c.receipt_preference = rng.Percent(70) || c.email.empty() ? m::ReceiptPreference::kPrint
                                                             : m::ReceiptPreference::kEmail;
  c.currency = l.currency;
  c.language = l.language;
  if (rng.Percent(25)) c.attributes.push_back({"Shoe size", std::to_string(35 + rng.Below(12))});
  if (rng.Percent(20)) {
    char birthday[16];
    std::snprintf(birthday, sizeof birthday, "19%02zu-%02zu-%02zu", 40 + rng.Below(60), 1 + rng.Below(12),
                  1 + rng.Below(28));
    c.attributes.push_back({"Birthday", birthday});
  }
  if (rng.Percent(10)) c.attributes.push_back({"Preferred brand", rng.Percent(50) ? "Dzintars" : "Aroma"});
  if (existing) {
    char account[16];
    std::snprintf(account, sizeof account, "LV%08llu", static_cast<unsigned long long>(index + 1));
    c.account = account;
    c.version = 1 + static_cast<std::uint32_t>(rng.Skewed(4));
    c.financial_dimensions.push_back({"Department", "D100"});
    // 7919 is prime to 10^10, so index -> card is one-to-one.
    if (rng.Percent(60)) {
      char card[16];
      std::snprintf(card, sizeof card, "60%010llu",
                    static_cast<unsigned long long>((index * 7919ull) % 10'000'000'000ull));
      c.loyalty_cards.push_back(card);
    }
  } else {
    c.version = 1;
  }
  return c;
}

}  // namespace

model::Customer Dataset::Customer(std::uint64_t index) const { return Generate(options_.seed, index, true); }

model::Customer Dataset::NewCustomer(std::uint64_t index, const std::string& terminal_id) const {
  model::Customer c = Generate(options_.seed, index, false);
  c.changed_at_ms = c.created_at_ms;
  for (auto* contacts : {&c.secondary_emails, &c.secondary_phones}) {
    for (auto& contact : *contacts) {
      contact.consent.captured_at_ms = c.created_at_ms;
      contact.consent.terminal_id = terminal_id;
    }
  }
  // Unique against the data set: new customers' emails and cards live apart.
  if (!c.email.empty()) c.email = "new" + std::to_string(index) + "." + c.email;
  return c;
}

}  // namespace kassa::bench
