// Boost.JSON ships header-only in Debian's libboost1.81-dev; this is its one
// compiled translation unit for every kassa target that speaks JSON.
#include <boost/json/src.hpp>
