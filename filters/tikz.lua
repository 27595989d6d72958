--[[
tikz.lua: ```{.tikz} blocks become SVG images in HTML and native TikZ in LaTeX.

Options, read once from the metadata and then removed:
  tikz-preamble  LaTeX file with the book's colours, TikZ libraries and fonts (default: none)
  tikz-cache     folder holding compiled SVGs, named by content hash (default: tikz-cache)
  tikz-link      how pages link to that folder (default: the same path)
  tikz-engine    engine identity folded into the hash; computed from `latex --version` and
                 `dvisvgm --version` when absent

An SVG is named sha1(engine, preamble, code): a changed preamble or engine makes a new file.
bookbuild compiles every figure beforehand in parallel; this filter compiles what is missing
(so it also works under a plain `quarto render`). Program paths: $LATEX, $DVISVGM.
]]

PANDOC_VERSION:must_be_at_least '3.1'

local stringify = pandoc.utils.stringify
local system = require 'pandoc.system'
local path = require 'pandoc.path'

local LATEX = os.getenv('LATEX') or 'latex'
local DVISVGM = os.getenv('DVISVGM') or 'dvisvgm'

local options = { preamble = '', preamble_path = nil, cache = 'tikz-cache', link = nil, engine = nil }

local function read_file(p)
  local f = io.open(p, 'r')
  if not f then error('tikz.lua: cannot read ' .. p) end
  local text = f:read('a')
  f:close()
  return text
end

local function first_line(text) return (text:match('[^\n]*')) end

-- Without a `tikz-preamble`, the one shipped beside this filter (filters/, or the Quarto
-- extension's folder), so plain pandoc gets TikZ and the palette too.
local function default_preamble()
  local beside = path.join({ path.directory(PANDOC_SCRIPT_FILE), 'tikz-preamble.tex' })
  local f = io.open(beside, 'r')
  if f then f:close(); return beside end
end

local used = false

local function read_options(meta)
  if meta['tikz-preamble'] then
    options.preamble_path = stringify(meta['tikz-preamble'])
    options.preamble = read_file(options.preamble_path)
  elseif default_preamble() then
    options.default_preamble = default_preamble()
    options.preamble = read_file(options.default_preamble)
  end
  if meta['tikz-cache'] then options.cache = stringify(meta['tikz-cache']) end
  options.link = meta['tikz-link'] and stringify(meta['tikz-link']) or options.cache
  if meta['tikz-engine'] then options.engine = stringify(meta['tikz-engine']) end
  for _, key in ipairs({ 'tikz-preamble', 'tikz-cache', 'tikz-link', 'tikz-engine' }) do meta[key] = nil end
  if FORMAT:match('latex') and options.preamble_path then
    -- The PDF loads the same preamble as the SVGs, so colours and fonts match.
    local includes = meta['header-includes'] or pandoc.MetaList({})
    if pandoc.utils.type(includes) ~= 'List' then includes = pandoc.MetaList({ includes }) end
    includes:insert(pandoc.MetaBlocks({ pandoc.RawBlock('latex', options.preamble) }))
    meta['header-includes'] = includes
  end
  return meta
end

local function engine_id()
  if not options.engine then
    options.engine = first_line(pandoc.pipe(LATEX, { '--version' }, '')) .. '; '
      .. first_line(pandoc.pipe(DVISVGM, { '--version' }, ''))
  end
  return options.engine
end

-- The standalone document a figure is compiled in; bookbuild builds the very same text.
local function document(code)
  return '\\documentclass[tikz,border=2pt]{standalone}\n' .. options.preamble
    .. '\n\\begin{document}\n' .. code .. '\n\\end{document}\n'
end

local function normalized(code) return (code:gsub('%s+$', '')) end

local function compile(code, target)
  system.with_temporary_directory('tikz', function(dir)
    local tex = path.join({ dir, 'figure.tex' })
    local f = io.open(tex, 'w')
    f:write(document(code))
    f:close()
    local ok, err = pcall(pandoc.pipe, LATEX,
      { '-interaction=nonstopmode', '-halt-on-error', '-output-directory=' .. dir, tex }, '')
    if not ok then
      local log = io.open(path.join({ dir, 'figure.log' }), 'r')
      local text = log and log:read('a') or tostring(err)
      error(('tikz.lua: %s failed for a figure:\n%s'):format(LATEX, text:match('\n!.-\n\n') or text:sub(-2000)))
    end
    pandoc.pipe(DVISVGM, { '--no-fonts', '--exact-bbox', '--verbosity=0', '-o', target, path.join({ dir, 'figure.dvi' }) }, '')
  end)
end

local function CodeBlock(block)
  if not block.classes:includes('tikz') then return nil end
  local code = normalized(block.text)
  if FORMAT:match('latex') then
    used = true
    return pandoc.RawBlock('latex', code)
  end
  local hash = pandoc.utils.sha1(engine_id() .. '\n' .. options.preamble .. '\n' .. code)
  local name = 'tikz-' .. hash .. '.svg'
  local target = path.join({ options.cache, name })
  local existing = io.open(target, 'r')
  if existing then
    existing:close()
  else
    system.make_directory(options.cache, true)
    compile(code, target)
  end
  local img = pandoc.Image({}, options.link .. '/' .. name, '', { class = 'tikz' })
  return pandoc.Para({ img })
end

-- A LaTeX document with figures but no tikz-preamble still needs TikZ in its preamble.
local function add_default_preamble(meta)
  if not (used and options.preamble_path == nil) then return nil end
  local includes = meta['header-includes'] or pandoc.MetaList({})
  if pandoc.utils.type(includes) ~= 'List' then includes = pandoc.MetaList({ includes }) end
  includes:insert(pandoc.MetaBlocks({ pandoc.RawBlock('latex',
    options.default_preamble and options.preamble or '\\usepackage{tikz}') }))
  meta['header-includes'] = includes
  return meta
end

return {
  { Meta = read_options },
  { CodeBlock = CodeBlock },
  { Meta = add_default_preamble },
}
