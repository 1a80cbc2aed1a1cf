// The grid carbon intensity table: published figures, each with its source and the year it
// describes. Countries: lifecycle gCO2e per kWh generated, Ember and Energy Institute data as
// published by Our World in Data ("Carbon intensity of electricity generation", 2023 column,
// https://ourworldindata.org/grapher/carbon-intensity-electricity). Norway and the world average:
// Ember's 2023 figures (Global Electricity Review 2024, as charted by Statista, July 2024).
// Cloud regions: Google Cloud's location-based grid carbon intensity per region for 2024
// (https://github.com/GoogleCloudPlatform/region-carbon-info, data/yearly/2024.csv).
// Only figures checked against those publications are listed; give --carbon-intensity otherwise.
#include "energy/carbon.h"

#include <array>

namespace eaq::carbon {

namespace {

constexpr std::string_view kOwid =
    "Ember and Energy Institute via Our World in Data, carbon intensity of electricity generation";
constexpr std::string_view kEmber = "Ember, Global Electricity Review 2024 (2023 emission intensity)";
constexpr std::string_view kGoogle =
    "Google Cloud region carbon data, grid carbon intensity (GoogleCloudPlatform/region-carbon-info)";

constexpr std::array kTable = {
    IntensityEntry{"world", "world", "", "World", 481, kEmber, 2023},
    IntensityEntry{"country", "AR", "ARG", "Argentina", 354, kOwid, 2023},
    IntensityEntry{"country", "AU", "AUS", "Australia", 549, kOwid, 2023},
    IntensityEntry{"country", "AT", "AUT", "Austria", 111, kOwid, 2023},
    IntensityEntry{"country", "BD", "BGD", "Bangladesh", 691, kOwid, 2023},
    IntensityEntry{"country", "BE", "BEL", "Belgium", 138, kOwid, 2023},
    IntensityEntry{"country", "BO", "BOL", "Bolivia", 532, kOwid, 2023},
    IntensityEntry{"country", "BA", "BIH", "Bosnia and Herzegovina", 600, kOwid, 2023},
    IntensityEntry{"country", "BR", "BRA", "Brazil", 98, kOwid, 2023},
    IntensityEntry{"country", "BG", "BGR", "Bulgaria", 335, kOwid, 2023},
    IntensityEntry{"country", "CA", "CAN", "Canada", 170, kOwid, 2023},
    IntensityEntry{"country", "CL", "CHL", "Chile", 291, kOwid, 2023},
    IntensityEntry{"country", "CN", "CHN", "China", 582, kOwid, 2023},
    IntensityEntry{"country", "CO", "COL", "Colombia", 260, kOwid, 2023},
    IntensityEntry{"country", "CR", "CRI", "Costa Rica", 53, kOwid, 2023},
    IntensityEntry{"country", "HR", "HRV", "Croatia", 205, kOwid, 2023},
    IntensityEntry{"country", "CY", "CYP", "Cyprus", 534, kOwid, 2023},
    IntensityEntry{"country", "CZ", "CZE", "Czechia", 450, kOwid, 2023},
    IntensityEntry{"country", "DK", "DNK", "Denmark", 152, kOwid, 2023},
    IntensityEntry{"country", "EC", "ECU", "Ecuador", 150, kOwid, 2023},
    IntensityEntry{"country", "EG", "EGY", "Egypt", 570, kOwid, 2023},
    IntensityEntry{"country", "SV", "SLV", "El Salvador", 271, kOwid, 2023},
    IntensityEntry{"country", "EE", "EST", "Estonia", 417, kOwid, 2023},
    IntensityEntry{"country", "FI", "FIN", "Finland", 79, kOwid, 2023},
    IntensityEntry{"country", "FR", "FRA", "France", 56, kOwid, 2023},
    IntensityEntry{"country", "GE", "GEO", "Georgia", 168, kOwid, 2023},
    IntensityEntry{"country", "DE", "DEU", "Germany", 381, kOwid, 2023},
    IntensityEntry{"country", "GR", "GRC", "Greece", 337, kOwid, 2023},
    IntensityEntry{"country", "HU", "HUN", "Hungary", 204, kOwid, 2023},
    IntensityEntry{"country", "IN", "IND", "India", 713, kOwid, 2023},
    IntensityEntry{"country", "IR", "IRN", "Iran", 655, kOwid, 2023},
    IntensityEntry{"country", "IE", "IRL", "Ireland", 291, kOwid, 2023},
    IntensityEntry{"country", "NO", "NOR", "Norway", 30, kEmber, 2023},
    IntensityEntry{"region", "africa-south1", "", "Google Cloud Johannesburg", 656.85, kGoogle, 2024},
    IntensityEntry{"region", "asia-east1", "", "Google Cloud Taiwan", 439.29, kGoogle, 2024},
    IntensityEntry{"region", "asia-east2", "", "Google Cloud Hong Kong", 505.02, kGoogle, 2024},
    IntensityEntry{"region", "asia-northeast1", "", "Google Cloud Tokyo", 452.85, kGoogle, 2024},
    IntensityEntry{"region", "asia-northeast2", "", "Google Cloud Osaka", 296.19, kGoogle, 2024},
    IntensityEntry{"region", "asia-northeast3", "", "Google Cloud Seoul", 356.57, kGoogle, 2024},
    IntensityEntry{"region", "asia-south1", "", "Google Cloud Mumbai", 678.76, kGoogle, 2024},
    IntensityEntry{"region", "asia-south2", "", "Google Cloud Delhi", 531.83, kGoogle, 2024},
    IntensityEntry{"region", "asia-southeast1", "", "Google Cloud Singapore", 366.85, kGoogle, 2024},
    IntensityEntry{"region", "asia-southeast2", "", "Google Cloud Jakarta", 560.55, kGoogle, 2024},
    IntensityEntry{"region", "australia-southeast1", "", "Google Cloud Sydney", 497.50, kGoogle, 2024},
    IntensityEntry{"region", "australia-southeast2", "", "Google Cloud Melbourne", 454.37, kGoogle, 2024},
    IntensityEntry{"region", "europe-central2", "", "Google Cloud Warsaw", 642.88, kGoogle, 2024},
    IntensityEntry{"region", "europe-north1", "", "Google Cloud Finland", 39.32, kGoogle, 2024},
    IntensityEntry{"region", "europe-north2", "", "Google Cloud Stockholm", 2.73, kGoogle, 2024},
    IntensityEntry{"region", "europe-southwest1", "", "Google Cloud Madrid", 89.04, kGoogle, 2024},
    IntensityEntry{"region", "europe-west1", "", "Google Cloud Belgium", 103.37, kGoogle, 2024},
    IntensityEntry{"region", "europe-west2", "", "Google Cloud London", 105.94, kGoogle, 2024},
    IntensityEntry{"region", "europe-west3", "", "Google Cloud Frankfurt", 275.82, kGoogle, 2024},
    IntensityEntry{"region", "europe-west4", "", "Google Cloud Eemshaven", 208.81, kGoogle, 2024},
    IntensityEntry{"region", "europe-west6", "", "Google Cloud Zurich", 15.05, kGoogle, 2024},
    IntensityEntry{"region", "europe-west8", "", "Google Cloud Milan", 201.69, kGoogle, 2024},
    IntensityEntry{"region", "europe-west9", "", "Google Cloud Paris", 16.30, kGoogle, 2024},
    IntensityEntry{"region", "europe-west10", "", "Google Cloud Berlin", 275.82, kGoogle, 2024},
    IntensityEntry{"region", "europe-west12", "", "Google Cloud Turin", 201.69, kGoogle, 2024},
    IntensityEntry{"region", "me-central2", "", "Google Cloud Dammam", 382.23, kGoogle, 2024},
    IntensityEntry{"region", "me-west1", "", "Google Cloud Tel Aviv", 433.75, kGoogle, 2024},
    IntensityEntry{"region", "northamerica-northeast1", "", "Google Cloud Montreal", 5.48, kGoogle, 2024},
    IntensityEntry{"region", "northamerica-northeast2", "", "Google Cloud Toronto", 58.56, kGoogle, 2024},
    IntensityEntry{"region", "northamerica-south1", "", "Google Cloud Mexico", 305.00, kGoogle, 2024},
    IntensityEntry{"region", "southamerica-east1", "", "Google Cloud Sao Paulo", 67.32, kGoogle, 2024},
    IntensityEntry{"region", "southamerica-west1", "", "Google Cloud Santiago", 238.00, kGoogle, 2024},
    IntensityEntry{"region", "us-central1", "", "Google Cloud Iowa", 412.72, kGoogle, 2024},
    IntensityEntry{"region", "us-east1", "", "Google Cloud South Carolina", 575.77, kGoogle, 2024},
    IntensityEntry{"region", "us-east2", "", "Google Cloud Georgia", 340.42, kGoogle, 2024},
    IntensityEntry{"region", "us-east4", "", "Google Cloud Northern Virginia", 323.05, kGoogle, 2024},
    IntensityEntry{"region", "us-south1", "", "Google Cloud Dallas", 302.95, kGoogle, 2024},
    IntensityEntry{"region", "us-west1", "", "Google Cloud Oregon", 79.23, kGoogle, 2024},
    IntensityEntry{"region", "us-west2", "", "Google Cloud Los Angeles", 169.28, kGoogle, 2024},
    IntensityEntry{"region", "us-west3", "", "Google Cloud Salt Lake City", 555.17, kGoogle, 2024},
    IntensityEntry{"region", "us-west4", "", "Google Cloud Las Vegas", 357.30, kGoogle, 2024},
};

}  // namespace

std::span<const IntensityEntry> intensity_table() { return kTable; }

}  // namespace eaq::carbon
