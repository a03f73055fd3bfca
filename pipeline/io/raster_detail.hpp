#pragma once
// Internals of the GDAL raster I/O shared by raster.cpp (reading) and raster_writer.cpp
// (writing); not installed.
#include <filesystem>
#include <memory>
#include <string>

#include <fmt/format.h>

#include <gdal_priv.h>

#include "satiq/pipeline/io/raster.hpp"

namespace satiq::detail {

struct TypeEntry {
    DataType type;
    GDALDataType gdal;
    const char* name;
    int bits;
};

inline constexpr TypeEntry kTypes[] = {
    {DataType::Byte, GDT_Byte, "Byte", 8},           {DataType::UInt16, GDT_UInt16, "UInt16", 16},
    {DataType::Int16, GDT_Int16, "Int16", 16},       {DataType::UInt32, GDT_UInt32, "UInt32", 32},
    {DataType::Int32, GDT_Int32, "Int32", 32},       {DataType::Float32, GDT_Float32, "Float32", 32},
    {DataType::Float64, GDT_Float64, "Float64", 64},
};

inline const TypeEntry& entry(DataType t) {
    for (const auto& e : kTypes)
        if (e.type == t) return e;
    throw Error("unknown data type");
}

inline DataType from_gdal(GDALDataType t, const std::string& path) {
    for (const auto& e : kTypes)
        if (e.gdal == t) return e.type;
    throw Error(
        fmt::format("{}: unsupported pixel type {} (satiq reads Byte, UInt16, Int16, UInt32, Int32, "
                    "Float32 and Float64)",
                    path.c_str(), GDALGetDataTypeName(t)));
}

struct GdalCloser {
    void operator()(GDALDataset* ds) const {
        if (ds) GDALClose(GDALDataset::ToHandle(ds));
    }
};
using DatasetPtr = std::unique_ptr<GDALDataset, GdalCloser>;

// Throws "<path>: <what>: <GDAL message>".
[[noreturn]] inline void fail(const std::filesystem::path& path, const std::string& what) {
    const std::string msg = last_gdal_error();
    if (msg.empty() || msg == "unknown GDAL error") throw Error(fmt::format("{}: {}", path.string(), what));
    throw Error(fmt::format("{}: {}: {}", path.string(), what, msg));
}

}  // namespace satiq::detail
