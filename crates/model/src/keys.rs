//! The keys each table of the flowsheet language accepts: the parser rejects any other key
//! (`E0101`, with a suggestion), and the reference page (docs/flowsheet-reference.md) documents
//! every one (a test checks both directions stay in step).

/// Top-level keys of a flowsheet.
pub const TOP: &[&str] = &[
    "schema",
    "include",
    "name",
    "description",
    "feed",
    "circuit",
    "unit",
    "splitter",
    "mixer",
    "purge",
    "product",
    "link",
    "prices",
    "optimize",
    "solver",
    "plant",
    "data",
];

/// `[[feed]]` with phase `aqueous` or `organic`.
pub const FEED_SOLUTION: &[&str] = &[
    "name",
    "phase",
    "to",
    "flow",
    "conc",
    "reo",
    "oxide_fraction",
    "acid",
    "acidity",
    "ph",
    "source",
    "quality",
];

/// `[[feed]]` with `phase = "mud"`.
pub const FEED_MUD: &[&str] = &[
    "name", "phase", "to", "flow", "grade", "content", "source", "quality",
];

/// `[[circuit]]` (besides one solution table per non-extraction section, named after it).
pub const CIRCUIT: &[&str] = &[
    "name",
    "sections",
    "feed_stage",
    "feed_phase",
    "feed_point",
    "organic",
    "equilibrium",
    "murphree",
    "capacity",
];

/// One entry of `sections`.
pub const SECTION: &[&str] = &["kind", "stages", "name"];

/// One entry of `feed_point`.
pub const FEED_POINT: &[&str] = &["name", "stage", "phase"];

/// A scrub, strip, wash or other section's solution.
pub const SOLUTION: &[&str] = &["acid", "conc", "flow", "stage"];

/// The organic phase.
pub const ORGANIC: &[&str] = &["extractant", "conc", "saponification", "agent", "flow"];

/// One `capacity` entry.
pub const CAPACITY: &[&str] = &["section", "max_flow", "mixer_volume", "residence_time"];

/// `model = "distribution"`.
pub const EQUILIBRIUM_DISTRIBUTION: &[&str] = &["model", "source", "quality", "d"];

/// `model = "separation_factor"`.
pub const EQUILIBRIUM_SEPARATION_FACTOR: &[&str] = &[
    "model",
    "source",
    "quality",
    "beta",
    "beta_section",
    "extraction_ratio",
    "loading_capacity",
];

/// `model = "mass_action"`.
pub const EQUILIBRIUM_MASS_ACTION: &[&str] = &[
    "model",
    "source",
    "quality",
    "k_ex",
    "n_extractant",
    "z_proton",
    "loading_capacity",
];

/// `model = "empirical"`.
pub const EQUILIBRIUM_EMPIRICAL: &[&str] = &[
    "model",
    "source",
    "quality",
    "a",
    "a1",
    "b",
    "c",
    "measure",
    "volume_percent",
];

/// `[[unit]]` of any kind.
pub const UNIT: &[&str] = &[
    "name", "kind", "from", "to", "recovery", "removal", "reagents", "source", "quality",
];

/// Extra keys of a `kind = "leach"` unit.
pub const LEACH: &[&str] = &["acid", "conc", "liquid_to_solid"];

/// One entry of a unit's `reagents`.
pub const REAGENT: &[&str] = &["reagent", "mol_per_mol", "per"];

/// `[[splitter]]`.
pub const SPLITTER: &[&str] = &["name", "from", "outlets"];

/// `[[mixer]]`.
pub const MIXER: &[&str] = &["name", "inlets", "to"];

/// `[[purge]]`.
pub const PURGE: &[&str] = &["name", "from"];

/// `[[link]]`.
pub const LINK: &[&str] = &["from", "to"];

/// `[[product]]`.
pub const PRODUCT: &[&str] = &["name", "from", "kind", "purity", "recovery"];

/// A product's `purity` table.
pub const PURITY: &[&str] = &["element", "elements", "min", "basis", "source"];

/// `[prices]`.
pub const PRICES: &[&str] = &[
    "set",
    "oxide",
    "reagent",
    "operating_cost",
    "date",
    "source",
    "quality",
];

/// A price written as a table `{ price, date, source, quality }`.
pub const PRICE: &[&str] = &["price", "date", "source", "quality"];

/// `[optimize]`.
pub const OPTIMIZE: &[&str] = &["objective", "free", "max_passes"];

/// `[solver]`: the run budget of simulate, design and optimize.
pub const SOLVER: &[&str] = &["time_limit", "max_iterations"];

/// `[plant]`: operating hours per year and the equipment-sizing basis of the reports.
pub const PLANT: &[&str] = &[
    "operating_hours",
    "mixer_residence_time",
    "settling_rate",
    "settler_organic_depth",
    "pipework_allowance",
];

/// One entry of `free`.
pub const FREE: &[&str] = &["var", "of", "min", "max"];

/// `[data]`.
pub const DATA: &[&str] = &["override"];

/// One `[[data.override]]`.
pub const OVERRIDE: &[&str] = &["key", "value", "source", "quality"];

/// Every table with the keys it accepts, as (where, keys), in reference-page order.
pub const ALL: &[(&str, &[&str])] = &[
    ("top level", TOP),
    ("[[feed]]", FEED_SOLUTION),
    ("[[feed]] (mud)", FEED_MUD),
    ("[[circuit]]", CIRCUIT),
    ("[[circuit]] sections", SECTION),
    ("[[circuit]] feed_point", FEED_POINT),
    ("[circuit.<section>]", SOLUTION),
    ("[circuit.organic]", ORGANIC),
    ("[circuit] capacity", CAPACITY),
    (
        "[circuit.equilibrium] distribution",
        EQUILIBRIUM_DISTRIBUTION,
    ),
    (
        "[circuit.equilibrium] separation_factor",
        EQUILIBRIUM_SEPARATION_FACTOR,
    ),
    ("[circuit.equilibrium] mass_action", EQUILIBRIUM_MASS_ACTION),
    ("[circuit.equilibrium] empirical", EQUILIBRIUM_EMPIRICAL),
    ("[[unit]]", UNIT),
    ("[[unit]] leach", LEACH),
    ("[[unit]] reagents", REAGENT),
    ("[[splitter]]", SPLITTER),
    ("[[mixer]]", MIXER),
    ("[[purge]]", PURGE),
    ("[[link]]", LINK),
    ("[[product]]", PRODUCT),
    ("[[product]] purity", PURITY),
    ("[prices]", PRICES),
    ("[prices] oxide price", PRICE),
    ("[optimize]", OPTIMIZE),
    ("[solver]", SOLVER),
    ("[plant]", PLANT),
    ("[optimize] free", FREE),
    ("[data]", DATA),
    ("[[data.override]]", OVERRIDE),
];
