#!/usr/bin/env bash
# Writes the hand-made seeds of fuzz_raster into tests/fuzz/corpus/raster/ (seed_*): tiny rasters of
# every type satiq reads, with and without georeferencing, nodata, 3 bands, tiles, overviews, other
# formats, metadata satiq interprets, VRT text, truncated TIFFs. Needs gdal-bin and a built satiq
# (SATIQ=path, default build/release/pipeline/cli/satiq) for the slanted-edge images. Each seed is
# below 20 KB. The fuzzer's own corpus entries (40-hex-digit names) are left alone.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$here/corpus/raster"
satiq="${SATIQ:-$root/build/release/pipeline/cli/satiq}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
cd "$tmp"
"$satiq" synth edge --size 64 --bits 16 --noise-dn 20 edge16.tif >/dev/null
"$satiq" synth edge --size 64 --bits 8 --noise-dn 1.5 --angle-deg 50 edge8.tif >/dev/null
T() { gdal_translate -q "$@"; }
s="$out/seed_"
T -co COMPRESS=DEFLATE edge8.tif "${s}byte_utm_deflate.tif"
T -co PIXELTYPE=SIGNEDBYTE -co COMPRESS=DEFLATE -scale 0 255 0 127 edge8.tif "${s}int8_signedbyte.tif"
T -co COMPRESS=DEFLATE -a_srs EPSG:4326 -a_ullr 127.5 39.0 127.50035 38.99965 edge16.tif "${s}uint16_geographic.tif"
T -ot Int16 -scale 0 65535 -20000 20000 -a_nodata -9999 -co COMPRESS=LZW edge16.tif "${s}int16_nodata.tif"
T -ot Float32 -scale 0 65535 0 1 edge16.tif f32.tif
T -co PROFILE=BASELINE -co COMPRESS=DEFLATE -co PREDICTOR=3 f32.tif "${s}float32_nogeo.tif"
T -ot Float64 -co COMPRESS=DEFLATE edge8.tif "${s}float64_utm.tif"
T -ot Int32 -co COMPRESS=DEFLATE -a_nodata 0 edge16.tif "${s}int32_nodata0.tif"
T -ot CInt16 -outsize 16 16 edge8.tif "${s}cint16_unsupported.tif"
T -b 1 -b 1 -b 1 -co PHOTOMETRIC=RGB -co COMPRESS=DEFLATE edge8.tif "${s}rgb_3band.tif"
T -b 1 -b 1 -scale 0 65535 0 4095 -co INTERLEAVE=BAND -co COMPRESS=LZW -co NBITS=12 edge16.tif "${s}uint16_2band_nbits12.tif"
T -co TILED=YES -co BLOCKXSIZE=16 -co BLOCKYSIZE=16 edge16.tif "${s}uint16_tiled16.tif"
T -of COG -co COMPRESS=DEFLATE -co OVERVIEWS=FORCE_USE_EXISTING edge16.tif "${s}uint16_cog.tif"
T -a_srs EPSG:2263 -a_ullr 1000000 200000 1000064 199936 -co COMPRESS=DEFLATE -mo SATELLITE_ELEVATION=63.5 \
  -mo SUN_ELEVATION=41 -mo SATELLITEID=WV03 -mo "TIFFTAG_DATETIME=2023:05:30 02:11:00" edge8.tif \
  "${s}byte_usfeet_metadata.tif"
T -co COMPRESS=DEFLATE -mo 'SATIQ_DEGRADE_PARAMETERS={"off_nadir_deg":25.0,"sensor":"malligyong-1"}' \
  -mo 'SATIQ_DEGRADE_PLAN={"view":{"altitude_m":500000,"elevation_deg":61.2,"off_nadir_deg":25}}' edge8.tif \
  "${s}byte_degrade_metadata.tif"
T -a_srs EPSG:4326 -gcp 0 0 127.5 39.0 -gcp 64 0 127.5007 39.0 -gcp 0 64 127.5 38.9995 -gcp 64 64 127.5007 38.9995 \
  -co COMPRESS=DEFLATE edge8.tif "${s}byte_gcps.tif"
T -of PNG edge8.tif "${s}edge.png"
T -of JPEG -co QUALITY=80 edge8.tif "${s}edge.jpg"
T -of GIF edge8.tif "${s}edge.gif"
T -of PNM edge8.tif "${s}edge.pgm"
T -of BMP edge8.tif "${s}edge.bmp"
T -of NITF edge8.tif "${s}edge.ntf"
# Large declared sizes, small files: assess runs (0.8 Mpx) / is skipped by the size guard (5 Mpx).
gdal_create -q -outsize 1024 768 -bands 1 -ot Byte -burn 7 -co COMPRESS=DEFLATE -co TILED=YES "${s}byte_1024x768_const.tif"
gdal_create -q -outsize 5000 1000 -bands 1 -ot Byte -burn 7 -co COMPRESS=DEFLATE -co TILED=YES "${s}byte_5000x1000_guard.tif"
# Truncated files: the strip, and the last tiles, missing.
T -co COMPRESS=NONE edge8.tif plain.tif
head -c 2500 plain.tif >"${s}truncated_byte.tif"
T -co COMPRESS=NONE -co TILED=YES -co BLOCKXSIZE=16 -co BLOCKYSIZE=16 edge16.tif tiled.tif
head -c 5000 tiled.tif >"${s}truncated_tiled.tif"
printf 'ncols 8\nnrows 6\nxllcorner 500000\nyllcorner 4000000\ncellsize 2\nNODATA_value -9999\n1 2 3 4 5 6 7 8\n1 2 3 4 5 6 7 8\n1 2 3 400 500 600 700 800\n-9999 2 3 400 500 600 700 800\n1 2 3 400 500 600 700 800\n1 2 3 400 500 600 700 800\n' >"${s}grid.asc"
# VRT text: rotated geotransform, RPCs and DigitalGlobe IMD keys; RPCs and DIMAP angles only; a missing source.
Z="0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0"
rpc() {  # LINE_OFF SAMP_OFF HEIGHT_OFF LINE_SCALE SAMP_SCALE LINE_NUM(4) SAMP_NUM(4)
  cat <<EOF
  <Metadata domain="RPC">
    <MDI key="LINE_OFF">$1</MDI>
    <MDI key="SAMP_OFF">$2</MDI>
    <MDI key="LAT_OFF">39.0</MDI>
    <MDI key="LONG_OFF">127.5</MDI>
    <MDI key="HEIGHT_OFF">$3</MDI>
    <MDI key="LINE_SCALE">$4</MDI>
    <MDI key="SAMP_SCALE">$5</MDI>
    <MDI key="LAT_SCALE">0.0002</MDI>
    <MDI key="LONG_SCALE">0.0003</MDI>
    <MDI key="HEIGHT_SCALE">500</MDI>
    <MDI key="LINE_NUM_COEFF">$6 $Z</MDI>
    <MDI key="LINE_DEN_COEFF">1 0 0 0 $Z</MDI>
    <MDI key="SAMP_NUM_COEFF">$7 $Z</MDI>
    <MDI key="SAMP_DEN_COEFF">1 0 0 0 $Z</MDI>
  </Metadata>
EOF
}
{
  echo '<VRTDataset rasterXSize="64" rasterYSize="48">'
  echo '  <SRS>EPSG:32652</SRS>'
  echo '  <GeoTransform>400000, 0.4, 0.1, 4300000, 0.1, -0.4</GeoTransform>'
  rpc 24 32 100 24 32 "0 0 -1 0.05" "0 1 0 0.02"
  cat <<'EOF'
  <Metadata domain="IMD">
    <MDI key="IMAGE_1.satId">"WV02"</MDI>
    <MDI key="IMAGE_1.firstLineTime">2021-04-01T01:02:03.000000Z</MDI>
    <MDI key="IMAGE_1.meanSatEl">71.3</MDI>
    <MDI key="IMAGE_1.meanSatAz">190.2</MDI>
    <MDI key="IMAGE_1.meanSunEl">55.0</MDI>
    <MDI key="IMAGE_1.meanSunAz">150.0</MDI>
    <MDI key="IMAGE_1.meanOffNadirViewAngle">16.4</MDI>
  </Metadata>
  <VRTRasterBand dataType="UInt16" band="1">
    <NoDataValue>0</NoDataValue>
  </VRTRasterBand>
</VRTDataset>
EOF
} >"${s}vrt_rotated_rpc_imd.vrt"
{
  echo '<VRTDataset rasterXSize="40" rasterYSize="40">'
  rpc 20 20 0 20 20 "0 0 -1 0.2" "0 1 0 0"
  p="Geometric_Data.Use_Area.Located_Geometric_Values"
  cat <<EOF
  <Metadata domain="IMD">
    <MDI key="$p.LOCATION_TYPE">Top Center</MDI>
    <MDI key="$p.Acquisition_Angles.INCIDENCE_ANGLE">20.1</MDI>
    <MDI key="${p}_2.LOCATION_TYPE">Center</MDI>
    <MDI key="${p}_2.Acquisition_Angles.INCIDENCE_ANGLE">12.5</MDI>
    <MDI key="${p}_2.Acquisition_Angles.VIEWING_ANGLE">11.0</MDI>
    <MDI key="${p}_2.Solar_Incidences.SUN_ELEVATION">48</MDI>
    <MDI key="${p}_2.Solar_Incidences.SUN_AZIMUTH">160</MDI>
  </Metadata>
  <VRTRasterBand dataType="Byte" band="1"/>
</VRTDataset>
EOF
} >"${s}vrt_dimap_rpc_only.vrt"
cat >"${s}vrt_missing_source.vrt" <<'EOF'
<VRTDataset rasterXSize="32" rasterYSize="32">
  <SRS>EPSG:4326</SRS>
  <GeoTransform>127.5, 0.000005, 0, 39.0, 0, -0.000005</GeoTransform>
  <VRTRasterBand dataType="Float32" band="1">
    <SimpleSource>
      <SourceFilename relativeToVRT="1">missing.tif</SourceFilename>
      <SourceBand>1</SourceBand>
    </SimpleSource>
  </VRTRasterBand>
</VRTDataset>
EOF
rm -f "$out"/*.aux.xml
echo "$(ls "$out"/seed_* | wc -l) seeds in $out"
