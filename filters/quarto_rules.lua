--[[
quarto_rules.lua: Quarto's rules the filters share (cross-reference kinds, theorems and proofs,
aside classes, callout types, `when-format` aliases), read from quarto-rules.json beside it;
bookbuild's static checks read the same file, so a rule is written once.

A filter loads it from its own folder, as Quarto's main.lua loads its parts, so it works from
filters/ and from _extensions/bookbuild/ alike (under Quarto, a filter's PANDOC_SCRIPT_FILE is
its own path but a chunk it loads runs in the global environment, hence the folder argument):

  local here = pandoc.path.directory(PANDOC_SCRIPT_FILE)
  local rules = loadfile(pandoc.path.join({ here, 'quarto_rules.lua' }))(here)

Each load returns fresh tables: a filter may add to them (callouts.lua adds declared types).
]]

PANDOC_VERSION:must_be_at_least '3.1.1'  -- pandoc.json

local here = ...
local file = assert(io.open(pandoc.path.join({ here, 'quarto-rules.json' }), 'r'))
local data = pandoc.json.decode(file:read('a'), false)
file:close()

local function set(list)
  local result = {}
  for _, item in ipairs(list) do result[item] = true end
  return result
end

local rules = {
  kinds = data.kinds,                      -- label prefix -> name ('fig' -> 'Figure')
  floats = set(data.floats),               -- fig, tbl, lst
  callout_kinds = data['callout-kinds'],   -- label prefix -> callout type ('nte' -> 'note')
  theorems = {},                           -- kind -> { env, style }
  theorem_order = {},                      -- the kinds in order (the LaTeX preamble's)
  proof_kinds = data['proof-kinds'],       -- numbered proofs: label prefix -> class
  proofs = data.proofs,                    -- proof class -> title
  asides = data.asides,                    -- classes whose headings are no sections
  callout_types = data['callout-types'],   -- Quarto's callout types -> { label, color }
  callout_classes = { callout = true },    -- the classes that make a div a callout
  format_aliases = data['format-aliases'], -- `when-format` name -> pandoc writers (html:js: not epub)
}
for _, t in ipairs(data.theorems) do
  rules.theorems[t.kind] = { env = t.env, style = t.style }
  table.insert(rules.theorem_order, t.kind)
end
for name in pairs(rules.callout_types) do rules.callout_classes['callout-' .. name] = true end

return rules
