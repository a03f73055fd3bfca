// Records of results.jsonl read back (parse_records, collect_records) and written out again
// (summary.csv, report.html): a corrupted or foreign file is skipped line by line with the reason,
// never an exception or undefined behaviour, and what is kept renders.
#include <cctype>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "satiq/pipeline/ops/batch_run.hpp"

using nlohmann::json;

namespace {

// A record as satiq batch writes it (abridged summary).
json good_record(const std::string& path, double niirs) {
    return {{"path", path},
            {"status", "ok"},
            {"error", nullptr},
            {"input", {{"size_bytes", 100}, {"mtime_ns", 1}}},
            {"options_key", "k"},
            {"source", {{"kind", "folder"}, {"item_id", nullptr}}},
            {"summary",
             {{"width_px", 64},
              {"height_px", 64},
              {"band_used", "band 1"},
              {"gsd_m", 0.5},
              {"rer_gm", 0.5},
              {"snr", 40.0},
              {"niirs", niirs},
              {"niirs_basis", "measured edges"},
              {"warnings", json::array({"w"})}}},
            {"run", {{"seconds", 0.1}}}};
}

std::string lines(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& l : v)
        s += l + "\n";
    return s;
}

// collect_records over results.jsonl texts, as `satiq report` reads files.
satiq::RecordCollection collect(const std::vector<std::string>& texts, const std::string* only_key = nullptr) {
    std::vector<std::istringstream> in(texts.begin(), texts.end());
    std::vector<std::istream*> streams;
    std::vector<std::filesystem::path> names;
    for (std::size_t i = 0; i < in.size(); ++i) {
        streams.push_back(&in[i]);
        names.emplace_back(std::string(1, 'R') += std::to_string(i + 1));
    }
    return satiq::collect_records(streams, names, only_key);
}

}  // namespace

// Each line below is valid JSON but not a satiq record: before, most of them reached a const
// json's operator[] on a missing key (undefined behaviour; an assertion in debug builds) or a
// type_error that ended `satiq report` and `batch --resume` with "internal error".
TEST(BatchRecords, ForeignLinesAreSkippedWithTheirReason) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"x", "not JSON"},
        {"[1]", "not a JSON object"},
        {R"({"path":5})", "no \"path\" string"},
        {R"({"path":""})", "no \"path\" string"},
        {R"({"path":"a"})", "\"status\" is not \"ok\" or \"error\""},
        {R"({"path":"a","status":"done"})", "\"status\" is not \"ok\" or \"error\""},
        {R"({"path":"a","status":"ok"})", "an \"ok\" record without \"summary\""},
        {R"({"path":"a","status":"error","error":{"a":1}})", "\"error\" is not a string"},
        {R"({"path":"a","status":"error","options_key":[1]})", "\"options_key\" is not a string"},
        {R"({"path":"a","status":"error","input":3})", "\"input\" is not an object"},
        {R"({"path":"a","status":"error","input":{"mtime_ns":1.5}})", "\"input.mtime_ns\" is not an integer"},
        {R"({"path":"a","status":"ok","summary":5})", "\"summary\" is not an object"},
        {R"({"path":"a","status":"ok","summary":{"niirs":"x"}})", "\"summary.niirs\" is not a number"},
        {R"({"path":"a","status":"ok","summary":{"band_used":5}})", "\"summary.band_used\" is not a string"},
        {R"({"path":"a","status":"ok","summary":{"warnings":"x"}})", "\"summary.warnings\" is not an array of strings"},
        {R"({"path":"a","status":"ok","summary":{},"source":{"kind":3}})", "\"source.kind\" is not a string"},
    };
    const std::string good = good_record("/d/g.tif", 4.0).dump();
    for (const auto& [line, why] : cases) {
        satiq::RecordFileCheck check;
        const auto recs = satiq::parse_records(lines({good, line, good}), &check);
        EXPECT_EQ(recs.size(), 2u) << line;
        EXPECT_EQ(check.bad_lines, 1) << line;
        EXPECT_EQ(check.first_bad_line, 2) << line;
        EXPECT_EQ(check.first_problem, why) << line;
        EXPECT_FALSE(check.cut_last_line) << line;
        EXPECT_EQ(check.message("R"), "R: 1 line is not a satiq record, skipped (the first is line 2: " + why + ")")
            << line;
    }
}

// A record may leave out any field the readers do not need, or hold null there (an older or a
// hand-made file): it is kept, merged, and rendered with empty cells.
TEST(BatchRecords, SparseRecordsAreKeptAndRendered) {
    const std::string text =
        lines({R"({"path":"a.tif","status":"error"})", R"({"path":"b.tif","status":"ok","summary":{}})",
               R"({"path":"c.tif","status":"ok","summary":null,"source":null,"input":null})",
               good_record("d.tif", 3.5).dump()});
    satiq::RecordFileCheck check;
    const auto recs = satiq::parse_records(text, &check);
    ASSERT_EQ(recs.size(), 4u);
    EXPECT_EQ(check.bad_lines, 0);
    satiq::RecordCollection c = collect({text});
    EXPECT_TRUE(c.warnings.empty());
    const std::vector<satiq::RecordRow> rows = c.take_rows();
    ASSERT_EQ(rows.size(), 4u);
    const std::string csv = satiq::batch_summary_csv(rows, c.sets);
    // d.tif has a NIIRS and comes first; b.tif is "ok" without one; the others are failures.
    const auto d = csv.find("\nd.tif,ok,,64,64,band 1,"), b = csv.find("\nb.tif,ok,"), a = csv.find("\na.tif,error,");
    EXPECT_NE(d, std::string::npos) << csv;
    EXPECT_LT(d, b) << csv;
    EXPECT_LT(b, a) << csv;
    const std::string html = satiq::batch_report_html(rows, c.sets, "sparse");
    EXPECT_NE(html.find("4 images: 2 assessed, 2 failed."), std::string::npos) << html;
    EXPECT_NE(html.find("</html>"), std::string::npos);
}

// Figures at the ends of the double range (a foreign file) do not overflow the histograms or the
// axes into NaN or infinities in the report.
TEST(BatchRecords, ExtremeFiguresRenderFinite) {
    json a = good_record("a.tif", 1.7e308), b = good_record("b.tif", -1.7e308);
    a["summary"]["gsd_m"] = 1e308;
    a["summary"]["snr"] = 1e-300;
    b["summary"]["gsd_m"] = 5e-324;
    b["summary"]["snr"] = 1e308;
    b["summary"]["rer_gm"] = -1e308;
    satiq::RecordCollection c = collect({lines({a.dump(), b.dump()})});
    const std::vector<satiq::RecordRow> rows = c.take_rows();
    ASSERT_EQ(rows.size(), 2u);
    const std::string html = satiq::batch_report_html(rows, c.sets, "extremes");
    // No "nan", "inf", "NaN" or "Infinity" as a word (a letter on neither side). A hand scan: GCC 12
    // draws false-positive warnings from <regex> under the sanitizers.
    auto letter = [&](std::size_t i) { return std::isalpha(static_cast<unsigned char>(html[i])) != 0; };
    for (const std::string word : {"nan", "inf", "NaN", "Infinity"})
        for (std::size_t at = html.find(word); at != std::string::npos; at = html.find(word, at + 1)) {
            const std::size_t end = at + word.size();
            const bool whole = at > 0 && !letter(at - 1) && end < html.size() && !letter(end);
            EXPECT_FALSE(whole) << html.substr(at > 40 ? at - 40 : 0, 80);
        }
}

// A last line without its newline (a kill mid-write) is not a record, and a file that is only
// that line has none; blank lines are not counted.
TEST(BatchRecords, CutLastLineAndBlankLines) {
    const std::string good = good_record("g.tif", 4.0).dump();
    satiq::RecordFileCheck check;
    auto recs = satiq::parse_records("\n\n" + good + "\n\n" + good.substr(0, 30), &check);
    EXPECT_EQ(recs.size(), 1u);
    EXPECT_EQ(check.bad_lines, 0);
    EXPECT_TRUE(check.cut_last_line);
    EXPECT_EQ(check.message("R"), "R: the last line is cut (a killed run), skipped");
    recs = satiq::parse_records(good, &check);
    EXPECT_TRUE(recs.empty());
    EXPECT_TRUE(check.cut_last_line);
    recs = satiq::parse_records("", &check);
    EXPECT_TRUE(recs.empty());
    EXPECT_TRUE(check.message("R").empty());
}

// record_field never inserts and never reads past a missing key; record_key of a sparse record
// is defined.
TEST(BatchRecords, RecordFieldAndKeyOfSparseRecords) {
    const json r = {{"path", "a"}, {"status", "error"}};
    EXPECT_TRUE(satiq::record_field(r, "input").is_null());
    EXPECT_TRUE(satiq::record_field(json(5), "path").is_null());
    EXPECT_EQ(satiq::record_field(r, "path"), "a");
    EXPECT_EQ(satiq::record_key(r), std::string("a\x1fnull\x1f"));
    EXPECT_EQ(satiq::record_row_key(r), std::string("a\x1f"));
    json m = {{"path", "a"}};  // a mutable object: a missing key read through record_field is not added
    EXPECT_TRUE(satiq::record_field(m, "status").is_null());
    EXPECT_EQ(m.size(), 1u);
}

// The last record of a row (path and options) wins, within a file (appended later) and across
// files (given later): a shard merged twice counts once, and an input that changed and was
// assessed again (another size or modification time) or a failure retried has one row, its last;
// other options keep rows of their own; only_key leaves out and counts the others; each kept
// record says where its line is, so that the merge can copy it. Before, a changed input kept both
// rows (the key held the input's identity).
TEST(BatchRecords, CollectKeepsTheLastRecordOfEachRow) {
    json a1 = good_record("a.tif", 3.0), a2 = good_record("a.tif", 4.0), b = good_record("b.tif", 5.0);
    json a_changed = good_record("a.tif", 2.0);
    a_changed["input"]["mtime_ns"] = 2;  // the file was replaced and assessed again
    json a_other = good_record("a.tif", 6.0);
    a_other["options_key"] = "other";
    json c_failed = good_record("c.tif", 0);
    c_failed["status"] = "error";
    c_failed["summary"] = nullptr;
    const json c_retried = good_record("c.tif", 1.0);
    const std::string first = lines({a1.dump(), b.dump(), c_failed.dump(), a2.dump()});
    const std::string second = lines({b.dump(), a_changed.dump(), a_other.dump(), c_retried.dump()}) + "{\"cut";

    satiq::RecordCollection c = collect({first, second});
    ASSERT_EQ(c.latest.size(), 4u);  // a (k), a (other), b, c
    ASSERT_EQ(c.warnings.size(), 1u);
    EXPECT_EQ(c.warnings[0], "R2: the last line is cut (a killed run), skipped");
    EXPECT_EQ(c.other_options, 0u);
    for (const auto& [key, kept] : c.latest) {  // each kept line is the record's own line
        const std::string& text = kept.file == 0 ? first : second;
        const json line = json::parse(text.substr(kept.offset, kept.length));
        EXPECT_EQ(satiq::record_row_key(line), key);
        if (kept.row.ok()) {
            EXPECT_EQ(line["summary"]["niirs"], kept.row.figures[satiq::RecordRow::niirs]);
        }
    }
    const auto& a = c.latest.at(satiq::record_row_key(a1));
    EXPECT_EQ(a.file, 1u);                      // a_changed, in the second file, is the last of its row...
    EXPECT_EQ(a.offset, b.dump().size() + 1u);  // ...on its second line
    EXPECT_EQ(a.row.figures[satiq::RecordRow::niirs], 2.0);
    EXPECT_EQ(c.latest.at(satiq::record_row_key(b)).file, 1u);           // b again in the second file
    EXPECT_TRUE(c.latest.at(satiq::record_row_key(c_failed)).row.ok());  // the retry supersedes the failure
    const std::vector<satiq::RecordRow> rows = c.take_rows();
    EXPECT_TRUE(c.latest.empty());
    ASSERT_EQ(rows.size(), 4u);
    EXPECT_EQ(rows.back().path, "c.tif");  // sorted by key: path first

    // Within one file the line appended last wins.
    EXPECT_EQ(collect({first}).latest.at(satiq::record_row_key(a1)).row.figures[satiq::RecordRow::niirs], 4.0);
    // The same text twice: nothing doubles.
    EXPECT_EQ(collect({first, first}).latest.size(), 3u);
    // Given the other way round, the first file's a2 is the last read of its row.
    EXPECT_EQ(collect({second, first}).latest.at(satiq::record_row_key(a1)).row.figures[satiq::RecordRow::niirs], 4.0);

    const std::string k = "k";
    satiq::RecordCollection only = collect({first, second}, &k);
    EXPECT_EQ(only.latest.size(), 3u);
    EXPECT_EQ(only.other_options, 1u);
    EXPECT_EQ(only.sets.size(), 1u);
}

// summary.csv has every summary column of a record (gsd_method, elevation_deg and its source,
// edges_candidates, snr_source, niirs_low and niirs_high for an image rated from its GSD alone,
// the count of its warnings), each text column after the figure it describes, in this order.
// Before, those eight were missing although the README said the summary's columns were there.
TEST(BatchRecords, SummaryCsvHasEverySummaryColumn) {
    json r = good_record("a.tif", 2.5);
    json& s = r["summary"];
    s["gsd_method"] = "projected_geotransform";
    s["elevation_deg"] = 72.5;
    s["elevation_source"] = "assumed nadir";
    s["edges_candidates"] = 220;
    s["snr_source"] = "user";
    s["niirs_basis"] = "estimated from GSD alone";
    s["niirs_low"] = 2.25;
    s["niirs_high"] = 2.75;
    s["warnings"] = json::array({"one", "two"});
    json failed = {{"path", "b.tif"}, {"status", "error"}, {"error", "b.tif: no such file"}};
    const satiq::RecordCollection c = collect({lines({r.dump(), failed.dump()})});
    satiq::RecordCollection copy = c;
    const std::string csv = satiq::batch_summary_csv(copy.take_rows(), c.sets);
    const std::string header =
        "path,status,error,width_px,height_px,band_used,gsd_m,gsd_method,effective_gsd_m,elevation_deg,"
        "elevation_source,rer_x,rer_y,rer_gm,mtf50_cyc_per_px,noise_sigma_dn,snr,snr_source,niirs,"
        "niirs_standard_error,niirs_basis,niirs_low,niirs_high,edges_candidates,edges_used,edges_x,edges_y,"
        "warning_count,source,item_id,options_key,options\n";
    ASSERT_EQ(csv.substr(0, header.size()), header);
    const std::string row = csv.substr(header.size(), csv.find('\n', header.size()) + 1 - header.size());
    EXPECT_EQ(row,
              "a.tif,ok,,64,64,band 1,0.5000,projected_geotransform,,72.50,assumed nadir,,,0.5000,,,40.00,user,"
              "2.5000,,estimated from GSD alone,2.2500,2.7500,220,,,,2,folder,,k,\n");
    EXPECT_NE(csv.find("\nb.tif,error,b.tif: no such file" + std::string(29, ',') + "\n"), std::string::npos) << csv;
}

// The label of a set of options says what was done to the images: a preset degradation carries
// the preset's ground GSD (as degrade computes it), a preset this version does not know only its
// name.
TEST(BatchRecords, OptionLabels) {
    auto label = [](const json& options) {
        satiq::OptionSets sets;
        satiq::note_option_set(sets, {{"path", "a"}, {"status", "ok"}, {"options_key", "k"}, {"options", options}});
        return sets.at("k").label;
    };
    EXPECT_EQ(label({{"band", 0}, {"degrade_to", nullptr}}), "as read");
    EXPECT_EQ(label({{"degrade_to", {{"target_gsd_m", 2.5}, {"sensor", nullptr}}}}), "degraded to 2.5 m");
    EXPECT_EQ(label({{"degrade_to", {{"target_gsd_m", nullptr}, {"sensor", "malligyong-1"}}}}),
              "degraded as malligyong-1 (3.00 m)");
    EXPECT_EQ(label({{"degrade_to", {{"sensor", "nosuch"}}}}), "degraded as nosuch");
    EXPECT_EQ(label({{"band", 2}, {"snr", 40}, {"trust_pixel_size", true}}), "band 2, SNR 40, pixel size trusted");
    satiq::OptionSets sets;  // records without their options: no label
    satiq::note_option_set(sets, {{"path", "a"}, {"status", "ok"}, {"options_key", "k"}});
    EXPECT_EQ(sets.at("k").label, "");
}
