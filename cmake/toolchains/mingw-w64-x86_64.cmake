# Cross-compiles for 64-bit Windows with mingw-w64 (Debian: g++-mingw-w64-x86-64-posix) and runs
# the resulting programs under wine (Debian: wine64), so that `ctest` works from Linux:
#
#   cmake -S . -B build/mingw -G Ninja \
#         -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/mingw-w64-x86_64.cmake
#   cmake --build build/mingw && ctest --test-dir build/mingw
#
# The "-posix" compiler variant is used because its libstdc++ has std::thread and std::mutex.
# Everything is linked statically (libgcc, libstdc++, winpthread), so the .exe files run under
# wine, or on Windows, without any mingw DLL next to them. Only Windows' own DLLs are used.

set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(SOCKFRAME_MINGW_TRIPLET x86_64-w64-mingw32)
find_program(CMAKE_C_COMPILER NAMES ${SOCKFRAME_MINGW_TRIPLET}-gcc-posix ${SOCKFRAME_MINGW_TRIPLET}-gcc)
find_program(CMAKE_CXX_COMPILER NAMES ${SOCKFRAME_MINGW_TRIPLET}-g++-posix ${SOCKFRAME_MINGW_TRIPLET}-g++)
find_program(CMAKE_RC_COMPILER NAMES ${SOCKFRAME_MINGW_TRIPLET}-windres windres)
if(NOT CMAKE_CXX_COMPILER)
  message(FATAL_ERROR "mingw-w64 not found: install g++-mingw-w64-x86-64-posix (Debian/Ubuntu)")
endif()

# Libraries and headers come from the mingw-w64 sysroot only; programs from the build machine.
set(CMAKE_FIND_ROOT_PATH /usr/${SOCKFRAME_MINGW_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Static runtime: no libstdc++-6.dll, libgcc_s_seh-1.dll or libwinpthread-1.dll to ship.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static-libgcc -static-libstdc++")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-static-libgcc -static-libstdc++")

# ctest, add_test and try_run launch the .exe through wine. WINEDEBUG=-all silences wine's own
# diagnostics; the prefix (WINEPREFIX, default ~/.wine) comes from the environment.
if(NOT CMAKE_CROSSCOMPILING_EMULATOR)
  find_program(SOCKFRAME_WINE NAMES wine64 wine
               PATHS /usr/lib/wine /usr/lib64/wine /opt/wine-stable/bin NO_CMAKE_FIND_ROOT_PATH)
  if(SOCKFRAME_WINE)
    set(CMAKE_CROSSCOMPILING_EMULATOR /usr/bin/env WINEDEBUG=-all ${SOCKFRAME_WINE})
  endif()
endif()
