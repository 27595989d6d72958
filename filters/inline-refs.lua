--[[
inline-refs.lua: fail the render when an inline `{python} expr` reaches pandoc unevaluated.

In a correct pipeline (bookbuild, or Quarto's jupyter engine) every inline reference has
been replaced by its value before pandoc runs. One that survives would print as code in
the book, so this filter lists every occurrence and stops the render instead.
]]

PANDOC_VERSION:must_be_at_least '3.1'

local ENGINE = '{python}'
local found = {}

local function Code(code)
  local text = code.text:gsub('^%s+', '')
  if text:sub(1, #ENGINE) == ENGINE then
    found[#found + 1] = text
  end
end

local function Pandoc(doc)
  if #found == 0 then return nil end
  local lines = { ('inline-refs.lua: %d inline reference(s) reached pandoc unevaluated:'):format(#found) }
  for i, text in ipairs(found) do lines[#lines + 1] = ('  %d. `%s`'):format(i, text) end
  lines[#lines + 1] = 'Render with an engine that evaluates them (bookbuild render, or quarto with engine: jupyter).'
  error(table.concat(lines, '\n'))
end

return {
  { Code = Code },
  { Pandoc = Pandoc },
}
