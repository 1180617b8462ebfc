# Finds the CBLAS named by HL_BLAS and defines the imported target
# hilander_blas.  Used by the top-level CMakeLists.txt and, for the static
# library, by the installed hilanderConfig.cmake (same rules both times).
#
#   HL_BLAS=openblas  OpenBLAS through pkg-config (module "openblas"; the default)
#   HL_BLAS=blas      libblas.so.3 with its CBLAS (Debian: libblas-dev; the
#                     implementation behind libblas.so.3 is then chosen at run
#                     time with update-alternatives: reference BLAS, OpenBLAS,
#                     BLIS, ...); libcblas is added where CBLAS is separate
#   HL_BLAS=blis      BLIS (pkg-config module "blis", else libblis and its cblas.h)
#
# Sets HL_BLAS_PC_REQUIRES (pkg-config module for Requires.private, may be
# empty) and HL_BLAS_PC_LIBS (-l flags for Libs.private when there is no module).
# Only cblas_* functions are required: OpenBLAS extras are weak references in
# lib/ (see lib/common/blas.c) and are no-ops with any other BLAS.
if(TARGET hilander_blas)
  return()
endif()
if(NOT HL_BLAS)
  set(HL_BLAS openblas)
endif()
find_package(PkgConfig REQUIRED)
include(CheckCSourceCompiles)
include(CMakePushCheckState)

add_library(hilander_blas INTERFACE IMPORTED)
set(HL_BLAS_PC_REQUIRES "")
set(HL_BLAS_PC_LIBS "")
set(_hl_blas_via_pkg ON)

if(HL_BLAS STREQUAL "openblas")
  pkg_check_modules(HL_OPENBLAS REQUIRED IMPORTED_TARGET openblas)
  target_link_libraries(hilander_blas INTERFACE PkgConfig::HL_OPENBLAS)
  set(HL_BLAS_PC_REQUIRES openblas)
  set(_hl_blas_incs ${HL_OPENBLAS_INCLUDE_DIRS})
  set(_hl_blas_libs ${HL_OPENBLAS_LINK_LIBRARIES})
elseif(HL_BLAS STREQUAL "blas" OR HL_BLAS STREQUAL "blis")
  if(HL_BLAS STREQUAL "blis")
    pkg_check_modules(HL_BLIS QUIET IMPORTED_TARGET blis)
  endif()
  if(HL_BLIS_FOUND)
    target_link_libraries(hilander_blas INTERFACE PkgConfig::HL_BLIS)
    set(HL_BLAS_PC_REQUIRES blis)
    set(_hl_blas_incs ${HL_BLIS_INCLUDE_DIRS})
    set(_hl_blas_libs ${HL_BLIS_LINK_LIBRARIES})
  else()
    if(HL_BLAS STREQUAL "blis")
      # Debian installs BLIS's cblas.h per threading flavour.
      set(_hl_suffixes blis-openmp blis-pthread blis-serial blis)
    else()
      set(_hl_suffixes "")
    endif()
    find_path(HL_CBLAS_INCLUDE_DIR_${HL_BLAS} cblas.h PATH_SUFFIXES ${_hl_suffixes})
    find_library(HL_BLAS_LIBRARY_${HL_BLAS} ${HL_BLAS})
    if(NOT HL_CBLAS_INCLUDE_DIR_${HL_BLAS} OR NOT HL_BLAS_LIBRARY_${HL_BLAS})
      message(FATAL_ERROR "HL_BLAS=${HL_BLAS}: cblas.h or lib${HL_BLAS} not found "
                          "(Debian: apt-get install lib${HL_BLAS}-dev)")
    endif()
    set(_hl_blas_incs ${HL_CBLAS_INCLUDE_DIR_${HL_BLAS}})
    set(_hl_blas_libs ${HL_BLAS_LIBRARY_${HL_BLAS}})
    set(_hl_blas_via_pkg OFF)
    set(HL_BLAS_PC_LIBS "-l${HL_BLAS}")
  endif()
else()
  message(FATAL_ERROR "HL_BLAS must be openblas, blas or blis (got '${HL_BLAS}')")
endif()

# Every CBLAS function the library calls must link.
set(_hl_cblas_test "#include <cblas.h>
int main(void)
{
    float a = 1.0f, b = 1.0f, c = 0.0f;
    double s = 0.0, t = 1.0;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, 1, 1, 1, 1.0f, &a, 1, &b, 1, 0.0f, &c, 1);
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, 1, 1, 1.0, &t, 1, 1.0, &s, 1);
    return c == 1.0f && s == 1.0 ? 0 : 1;
}")
cmake_push_check_state(RESET)
set(CMAKE_REQUIRED_QUIET ON)
set(CMAKE_REQUIRED_INCLUDES ${_hl_blas_incs})
set(CMAKE_REQUIRED_LIBRARIES ${_hl_blas_libs})
check_c_source_compiles("${_hl_cblas_test}" HL_CBLAS_LINKS_${HL_BLAS})
if(NOT HL_CBLAS_LINKS_${HL_BLAS} AND HL_BLAS STREQUAL "blas")
  # Distributions that ship CBLAS as its own library (libcblas.so).
  find_library(HL_CBLAS_LIBRARY cblas)
  if(HL_CBLAS_LIBRARY)
    list(PREPEND _hl_blas_libs ${HL_CBLAS_LIBRARY})
    set(CMAKE_REQUIRED_LIBRARIES ${_hl_blas_libs})
    check_c_source_compiles("${_hl_cblas_test}" HL_CBLAS_LINKS_blas_cblas)
    if(HL_CBLAS_LINKS_blas_cblas)
      set(HL_CBLAS_LINKS_${HL_BLAS} ON)
      set(HL_BLAS_PC_LIBS "-lcblas ${HL_BLAS_PC_LIBS}")
    endif()
  endif()
endif()
cmake_pop_check_state()
if(NOT HL_CBLAS_LINKS_${HL_BLAS})
  message(FATAL_ERROR "HL_BLAS=${HL_BLAS}: cblas_sgemm/cblas_dsyrk do not link with ${_hl_blas_libs} "
                      "(headers: ${_hl_blas_incs})")
endif()
if(NOT _hl_blas_via_pkg)
  target_include_directories(hilander_blas INTERFACE ${_hl_blas_incs})
  target_link_libraries(hilander_blas INTERFACE ${_hl_blas_libs})
endif()
if(HL_BLAS STREQUAL "blis")
  # BLIS's cblas.h uses pthread_barrier_t, which strict C11 (-std=c11) only
  # declares with POSIX 2001+ feature macros; _XOPEN_SOURCE=700 provides them
  # whatever _POSIX_C_SOURCE a source file defines itself.
  target_compile_definitions(hilander_blas INTERFACE _XOPEN_SOURCE=700)
endif()
message(STATUS "BLAS: HL_BLAS=${HL_BLAS}: ${_hl_blas_libs}")
