--[[
inline-refs.lua: fail the render when an inline `{python} expr` reaches pandoc unevaluated.

In a correct pipeline (bookbuild, or Quarto's jupyter engine) every inline reference has
been replaced by its value before pandoc runs. One that survives would print as code in
the book, so this filter lists every occurrence and stops the render instead.

On a raw `.qmd`, pandoc reads a code cell (```` ```{python} ````) as inline code too; such
cells are not inline references. When the input files are readable, only the single-backtick
references written in them count; from standard input, a paragraph holding nothing but one
`{python}` code span is taken for a cell (and shown as a code block).
]]

PANDOC_VERSION:must_be_at_least '3.1'

local ENGINE = '{python}'
local found = {}

local function squash(text) return (text:gsub('%s+', ' '):gsub('^ ', ''):gsub(' $', '')) end

-- The inline references written in the input files (single backticks), or nil from stdin.
local function written_refs()
  local refs, any = {}, false
  for _, name in ipairs(PANDOC_STATE.input_files or {}) do
    if name == '-' then return nil end
    local f = io.open(name, 'r')
    if not f then return nil end
    local text = f:read('a')
    f:close()
    any = true
    local i = 1
    while true do
      local at = text:find('`' .. ENGINE, i, true)
      if not at then break end
      local before = at > 1 and text:sub(at - 1, at - 1) or ''
      local body = text:match('^`([^`]*)`', at)
      if before ~= '`' and body and text:sub(at + #body + 2, at + #body + 2) ~= '`' then
        refs[squash(body)] = true
      end
      i = at + 1
    end
  end
  return any and refs or nil
end

local written = written_refs()

local function is_ref(text)
  if text:sub(1, #ENGINE) ~= ENGINE then return false end
  return written == nil or written[squash(text)] == true
end

-- From stdin: a paragraph that is one `{python}` code span is a code cell.
local function Para(para)
  if written ~= nil or #para.content ~= 1 or para.content[1].t ~= 'Code' then return nil end
  local text = para.content[1].text:gsub('^%s+', '')
  if text:sub(1, #ENGINE) ~= ENGINE then return nil end
  return pandoc.CodeBlock(text:sub(#ENGINE + 1):gsub('^%s+', ''), { class = 'python' })
end

local function Code(code)
  local text = code.text:gsub('^%s+', '')
  if is_ref(text) then
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
  { Para = Para },
  { Code = Code },
  { Pandoc = Pandoc },
}
