#pragma once
// The precompiled header of the test programs (SOCKFRAME_TEST_PCH): what nearly every test file
// includes, parsed once per build instead of once per test file. Each public header is still
// compiled on its own by the strict-warnings job (tests/strict).
#include <sockframe/sockframe.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <system_error>
#include <thread>
#include <vector>
