#!/usr/bin/env python3
"""Writes the hand-made seeds of fuzz_parse into tests/fuzz/corpus/parse/ (seed_MM_NAME).

The first byte of each seed selects the parser (see fuzz_parse.cpp: byte % 16 = mode, byte // 16 =
variant); the rest is its text. Run again after changing the modes; the fuzzer's own corpus
entries (40-hex-digit names) are left alone.
"""
import json
import pathlib

OUT = pathlib.Path(__file__).resolve().parent / "corpus" / "parse"
MODES = 16

seeds = {}


def add(mode, name, text, variant=0):
    seeds[f"seed_{mode:02d}_{name}"] = bytes([mode + MODES * variant]) + text.encode()


# 0 parse_gsd_pair
for i, t in enumerate(["0.5", "0.3,0.31", "abc", "1e-9", "inf", "1,", "2e5,0.5"]):
    add(0, f"gsd_{i}", t)
# 1 --roi / --band / --seed, then analyse_edge_rois on a 64 x 64 edge
add(1, "roi_rect", "20,10,30,40")
add(1, "roi_line", "33,5,36,60,8", variant=1)
add(1, "roi_two", "20,10,30,40\n33,5,36,60,8")
add(1, "roi_band_all", "all")
add(1, "roi_outside", "-10,-10,100,100")
add(1, "roi_seed", "18446744073709551615")
# 2 parse_target + interpret_image
add(2, "target_boat", "patrol boat:27:7")
add(2, "target_colon", "a:b:20:5", variant=1)
add(2, "target_tiny", "x:0.001:0.002", variant=2)
add(2, "target_bad", "tank")
# 3 parse_rule
for v, r in enumerate(["niirs_model", "gsd_over_rer", "gsd_nyquist", "mtf50"]):
    add(3, f"rule_{r}", r, variant=v)
# 4 giqe selection / data type
for i, t in enumerate(["3", "all", "Byte", "float32", "UInt16"]):
    add(4, f"select_{i}", t)
# 5 sensor presets and catalogue targets
for i, t in enumerate(["worldview-3", "Malligyong 1", "tank", "patrol_boat", "WORLDVIEW_2"]):
    add(5, f"preset_{i}", t)
# 6 sweep --gsd-m
for i, t in enumerate(["0.5,1,2", "0.3:10:1.5", "0.25,0.25,3", "1:2:1"]):
    add(6, f"steps_{i}", t)
# 7 require tasks
for i, t in enumerate(["identify:tel", "detect:boat:20:5", "niirs:5.5", "niirs:military:5:3",
                       "distinguish-tel-from-support-vans", "recognize:car", "niirs:civil:2:1"]):
    add(7, f"task_{i}", t)
# 8 manifests (the fixture folder holds a.tif, sub/b.tif, notes.txt)
add(8, "manifest_plain", "# inputs\na.tif\nsub\nnotes.txt\n*.tif\nmissing.tif\na.tif\n")
add(8, "manifest_csv", "path,gsd_m,elevation_deg,snr\na.tif,0.5,60,40\n\"sub\",,,\n")
add(8, "manifest_csv_quoted", 'PATH , snr\r\n" a.tif",12\r\n"x,""y"".tif",\r\n,,,\r\n')
add(8, "manifest_bad", "path,gsd_m\na.tif,-1\n")
add(8, "manifest_unclosed", 'path\n"a.tif\n')
# 9 STAC documents
item = {"type": "Feature", "stac_version": "1.0.0", "id": "scene-1",
        "properties": {"gsd": 0.5, "view:off_nadir": 12.5, "view:sun_elevation": 40},
        "assets": {"thumb": {"href": "notes.txt", "type": "image/png", "roles": ["thumbnail"]},
                   "data": {"href": "a.tif", "type": "image/tiff; application=geotiff", "gsd": 0.6}}}
add(9, "stac_item", json.dumps(item))
add(9, "stac_item_asset_key", json.dumps(item), variant=1)
add(9, "stac_collection", json.dumps({"type": "FeatureCollection", "features": [item, dict(item, id="scene-2")]}))
add(9, "stac_catalog", json.dumps({"type": "Catalog", "id": "c", "links": [
    {"rel": "self", "href": "stac.json"}, {"rel": "child", "href": "stac.json"},
    {"rel": "item", "href": "notes.txt"}, {"rel": "item", "href": "missing.json"}]}))
add(9, "stac_bad_type", json.dumps({"type": "Feature", "id": 5}))
# 10 / 11 metadata lines
md = {
    "utm_imd": "gt=400000,0.5,0,4300000,0,-0.5\ncrs=1\nIMD|IMAGE_1.meanSatEl=70.5\nIMD|IMAGE_1.meanSatAz=120\n"
               "IMD|IMAGE_1.meanOffNadirViewAngle=18\nIMD|IMAGE_1.satId=\"WV03\"\nIMD|IMAGE_1.firstLineTime=2020-01-01T00:00:00Z\n",
    "geographic": "gt=127.5,0.000003,0,39,0,-0.000003\ncrs=0\nsize=4000,3000\nIMAGERY|SATELLITEID=PNEO\n"
                  "IMAGERY|CLOUDCOVER=3\nSUN_ELEVATION=45\n",
    "usfeet_rotated": "gt=1000000,1,0.2,200000,0.2,-1\ncrs=2\nOFF_NADIR=22.5\n",
    "gcps": "crs=11\ngcp=0,0,127.5,39,0\ngcp=64,0,127.5007,39,0\ngcp=0,64,127.5,38.9995,0\n"
            "gcp=64,64,127.5007,38.9995,0\ngcpcrs=0\n",
    "rpc": "size=40,40\nheight=120\nRPC|LINE_OFF=20\nRPC|SAMP_OFF=20\nRPC|LAT_OFF=39\nRPC|LONG_OFF=127.5\n"
           "RPC|HEIGHT_OFF=0\nRPC|LINE_SCALE=20\nRPC|SAMP_SCALE=20\nRPC|LAT_SCALE=0.0002\nRPC|LONG_SCALE=0.0002\n"
           "RPC|HEIGHT_SCALE=500\nRPC|LINE_NUM_COEFF=0 0 -1 0.2" + " 0" * 16 + "\nRPC|LINE_DEN_COEFF=1" + " 0" * 19 +
           "\nRPC|SAMP_NUM_COEFF=0 1 0 0" + " 0" * 16 + "\nRPC|SAMP_DEN_COEFF=1" + " 0" * 19 + "\n",
    "dimap": "IMD|Geometric_Data.Use_Area.Located_Geometric_Values.LOCATION_TYPE=Top Center\n"
             "IMD|Geometric_Data.Use_Area.Located_Geometric_Values.Acquisition_Angles.INCIDENCE_ANGLE=20\n"
             "IMD|Geometric_Data.Use_Area.Located_Geometric_Values_2.LOCATION_TYPE=Center\n"
             "IMD|Geometric_Data.Use_Area.Located_Geometric_Values_2.Acquisition_Angles.INCIDENCE_ANGLE=12.5\n"
             "IMD|Geometric_Data.Use_Area.Located_Geometric_Values_2.Acquisition_Angles.VIEWING_ANGLE=11\n"
             "IMD|Geometric_Data.Use_Area.Located_Geometric_Values_2.Solar_Incidences.SUN_ELEVATION=48\n"
             "IMD|Geometric_Data.Use_Area.Located_Geometric_Values_2.Solar_Incidences.SUN_AZIMUTH=160\n",
    "degrade": 'gt=0,2,0,0,0,-2\ncrs=3\nSATIQ_DEGRADE_PARAMETERS={"off_nadir_deg":25,"sensor":"malligyong-1"}\n'
               'SATIQ_DEGRADE_PLAN={"view":{"altitude_m":500000,"elevation_deg":61.2,"off_nadir_deg":25}}\n',
    "degrade_plan_only": 'crs=9\ngt=0,1,0,0,0,-1\nSATIQ_DEGRADE_PLAN={"view":{"elevation_deg":45,"off_nadir_deg":40}}\n',
}
for name, text in md.items():
    add(10, f"md_{name}", text)
    add(11, f"tiff_{name}", text)
# 12 satiq predict ARGS (one per line)
for i, args in enumerate([
        ["--sensor", "worldview-3"],
        ["--sensor", "malligyong-1", "--off-nadir-deg", "20", "--format", "json"],
        ["--target-gsd-m", "1", "--mtf-nyquist", "0.3", "--snr", "50"],
        ["--target-gsd-m", "3", "--sigma-px", "0.7", "--snr", "20", "--bits", "8", "--resolution-rule", "mtf50"],
        ["--altitude-m", "500000", "--aperture-m", "0.5", "--focal-length-m", "10", "--pitch-um", "8", "--snr", "40",
         "--target", "boat:20:5", "--target", "tank"],
        ["--altitude-m", "500000", "--aperture-m", "0.3", "--focal-length-m", "4", "--pitch-um", "6",
         "--integration-time-s", "0.0002", "--solar-zenith-deg", "40", "--obscuration", "0.3", "--jitter-px", "0.2",
         "--smear-px", "0.1", "--defocus-px", "0.3", "--wfe-waves", "0.07", "--full-well-e", "50000",
         "--read-noise-e", "20", "--wavelength-um", "0.65", "--fill-factor", "0.9"],
        ["--sensor", "worldview-2", "--elevation-deg", "55", "--format", "text"],
        ["--list", "--format", "json"],
        ["--help"]]):
    add(12, f"predict_{i}", "\n".join(args))
# 13 satiq require ARGS
for i, args in enumerate([
        ["identify:tel", "--altitude-m", "500000"],
        ["niirs:5", "--format", "json", "--rer", "0.9", "--pitch-um", "8", "--altitude-m", "600000"],
        ["detect:boat:20:5", "recognise:tank", "--q", "1.5", "--snr", "20", "--wavelength-um", "0.7"],
        ["--list"],
        ["niirs:9", "--snr", "5"]]):
    add(13, f"require_{i}", "\n".join(args))
# 14 sensor presets documents
preset = {"name": "fuzzsat", "display_name": "FuzzSat", "notes": "",
          "figures": {k: {"value": v, "assumed": "fuzz"} for k, v in {
              "altitude_m": 500000, "gsd_nadir_m": 0.5, "aperture_diameter_m": 0.6, "central_obscuration_ratio": 0.2,
              "focal_length_m": 8.0, "detector_pitch_m": 8e-6, "fill_factor": 1.0, "wavelength_m": 6e-7,
              "jitter_sigma_px": 0.1, "smear_px": 0.2, "defocus_blur_diameter_px": 0.0,
              "wavefront_error_rms_waves": 0.05, "full_well_e": 60000, "read_noise_e": 20, "bits": 11,
              "snr": 40}.items()}}
add(14, "presets_one", json.dumps({"sensors": [preset]}))
add(14, "presets_bad", json.dumps({"sensors": [{"name": "x", "figures": {"altitude_m": {"value": 1}}}]}))
add(14, "presets_not_object", json.dumps({"sensors": [1, "a"]}))
# 15 results.jsonl records (satiq report, batch --resume)
ok_record = {"path": "/data/a.tif", "status": "ok", "error": None,
             "input": {"size_bytes": 1884094, "mtime_ns": 1796655413536330349}, "options_key": "80a4a96bf49a48d8",
             "source": {"kind": "folder", "item_id": None, "gsd_m": None, "elevation_deg": None, "snr": None,
                        "sun_elevation_deg": None},
             "summary": {"width_px": 967, "height_px": 973, "band_used": "band 1", "gsd_m": 20.0,
                         "gsd_method": "projected_geotransform", "effective_gsd_m": None, "elevation_deg": 90.0,
                         "elevation_source": "assumed nadir", "edges_candidates": 440, "edges_used": 12,
                         "edges_x": 6, "edges_y": 6, "rer_x": 0.372, "rer_y": 0.499, "rer_gm": 0.431,
                         "mtf50_cyc_per_px": 0.201, "noise_sigma_dn": 16.8, "snr": 42.3, "snr_source": "measured",
                         "niirs": -0.189, "niirs_standard_error": 0.21, "niirs_basis": "measured edges",
                         "niirs_low": None, "niirs_high": None, "warnings": ["nadir assumed"]},
             "run": {"seconds": 0.31, "finished_utc": "2026-12-07T14:57:54Z", "host": "vm"}}
error_record = {"path": "/data/b.txt", "status": "error", "error": "/data/b.txt: not a raster GDAL can read",
                "input": {"size_bytes": 12, "mtime_ns": 1}, "options_key": "80a4a96bf49a48d8", "source": None,
                "summary": None}
gsd_alone = json.loads(json.dumps(ok_record))
gsd_alone.update(path="/data/c.tif")
gsd_alone["summary"].update(rer_gm=None, rer_x=None, rer_y=None, niirs=0.34, niirs_low=0.1, niirs_high=0.6,
                            niirs_basis="estimated from GSD alone", edges_used=0)
line = lambda r: json.dumps(r, separators=(",", ":")) + "\n"
add(15, "records_batch", line(ok_record) + line(error_record) + line(gsd_alone))
add(15, "records_rerun", line(ok_record) + line(dict(ok_record, run={"seconds": 0.2})) + line(error_record))
add(15, "records_cut", line(ok_record) + line(error_record)[:40])
add(15, "records_foreign", '{"path":5}\n[1]\nnot json\n{"path":"a","status":"ok"}\n'
    '{"path":"a","status":"ok","summary":{"niirs":"x"}}\n{"path":"a","status":"error","error":{"a":1}}\n' +
    line(error_record))
add(15, "records_extremes", '{"path":"a","status":"ok","summary":{"gsd_m":1e308,"niirs":1.7e308,"snr":1e-300}}\n'
    '{"path":"b","status":"ok","summary":{"gsd_m":5e-324,"niirs":-1.7e308,"snr":1e308,"rer_gm":1e308}}\n'
    '{"path":"c\\u0000<&>\\"\\n,","status":"error","error":"<script>"}\n')

OUT.mkdir(parents=True, exist_ok=True)
for name, data in seeds.items():
    (OUT / name).write_bytes(data)
print(f"{len(seeds)} seeds in {OUT}")
