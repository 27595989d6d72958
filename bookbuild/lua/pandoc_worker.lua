-- A long-lived `pandoc lua` process that converts one chapter per request, as the pandoc
-- command line would with the same options, without paying pandoc's start-up, the filters'
-- loading and the metadata's parsing once per page.
--
-- Requests: one JSON object per line on stdin. Replies: one JSON line on the file descriptor
-- named by BOOKBUILD_REPLY_FD, so that a filter's print() cannot corrupt the protocol. After
-- each request a sentinel line on stderr closes that request's warnings.

local json = pandoc.json
local here = debug.getinfo(1, 'S').source:match('^@(.*)/[^/]*$') or '.'
local citeproc_memo = dofile(here .. '/citeproc_memo.lua')

-- A marker line for the host (pandocworker.py) around citeproc's warnings.
local function mark(kind, id)
  io.stderr:write('\1bookbuild-citeproc ' .. kind .. ' ' .. tostring(id) .. '\n')
  io.stderr:flush()
end
local reply = assert(io.open('/dev/fd/' .. assert(os.getenv('BOOKBUILD_REPLY_FD')), 'w'))

-- What a fresh pandoc process would start from: modules a filter `require`s are loaded anew
-- for every page, as they are when each page runs in its own process.
local pristine_loaded = {}
for name, module in pairs(package.loaded) do pristine_loaded[name] = module end
local pristine_path, pristine_cpath = package.path, package.cpath

-- The same for the tables every filter shares: a filter that replaces `pandoc.utils.stringify`
-- or sets a field of `pandoc` or of `_G` does so for its own page only, as in its own process.
local pristine_tables = {}
for _, t in pairs(pristine_loaded) do
  if type(t) == 'table' and not pristine_tables[t] then
    local copy = {}
    for k, v in next, t do copy[k] = v end
    pristine_tables[t] = copy
  end
end

local function restore_tables()
  for t, copy in pairs(pristine_tables) do
    for k in next, t do
      if copy[k] == nil then rawset(t, k, nil) end
    end
    for k, v in next, copy do
      if rawget(t, k) ~= v then rawset(t, k, v) end
    end
  end
end

local function fresh_modules()
  for name in pairs(package.loaded) do
    if pristine_loaded[name] == nil then package.loaded[name] = nil end
  end
  package.path, package.cpath = pristine_path, pristine_cpath
  restore_tables()
end

-- Parsed metadata files and compiled templates, by their text: books repeat them page to page.
-- Forgotten wholesale past a few dozen, so a long preview session does not grow without end.
local MEMO_LIMIT = 32
local memos, memo_size = { metadata = {}, template = {} }, 0

local function remember(kind, key, value)
  memo_size = memo_size + 1
  if memo_size > MEMO_LIMIT then
    memos, memo_size = { metadata = {}, template = {} }, 1
  end
  memos[kind][key] = value
  return value
end

local function metadata_file(text, from)
  if text == nil or text == '' then return {} end
  -- pandoc reads a metadata file as YAML whose strings are Markdown, as in a document's block
  return memos.metadata[text]
      or remember('metadata', text, pandoc.read('---\n' .. text .. '\n---\n', from).meta)
end

-- `-M key=value` as pandoc's command line reads it: a few words are booleans, the rest strings.
local BOOLEANS = { ['true'] = true, ['True'] = true, ['TRUE'] = true,
                   ['false'] = false, ['False'] = false, ['FALSE'] = false }

local function literal(value)
  if BOOLEANS[value] ~= nil then return BOOLEANS[value] end
  return pandoc.MetaString(value)
end

-- The extensions a reader format spec such as `markdown+tex_math_single_backslash` turns on.
local function extensions_of(spec)
  local base = spec:match('^[^+-]+')
  local on = {}
  for _, name in ipairs(pandoc.format.default_extensions(base)) do on[name] = true end
  for sign, name in spec:gmatch('([+-])([%w_]+)') do on[name] = (sign == '+') or nil end
  local list = pandoc.List {}
  for name in pairs(on) do list:insert(name) end
  list:sort()
  return list
end

-- Building ReaderOptions from a list of extension names takes pandoc 5-8 ms; a copy of a built
-- one takes microseconds, and a filter that sets a field of its copy changes no other page's.
local built_reader_options = {}

local function reader_options_for(spec)
  local options = built_reader_options[spec]
  if not options then
    options = pandoc.ReaderOptions { extensions = extensions_of(spec) }
    built_reader_options[spec] = options
  end
  return options
end

local function convert(req)
  local doc = pandoc.read(req.markdown, req.from)
  -- precedence as on the command line: the metadata file < the document's own block < -M
  for key, value in pairs(metadata_file(req.metadata_file, req.from)) do
    if doc.meta[key] == nil then doc.meta[key] = value end
  end
  for key, values in pairs(req.literals) do
    if #values == 1 then
      doc.meta[key] = literal(values[1])
    else
      local list = pandoc.List {}
      for _, v in ipairs(values) do list:insert(literal(v)) end
      doc.meta[key] = list
    end
  end
  local reader_options = pandoc.ReaderOptions(reader_options_for(req.from))
  local writer = req.writer
  writer.template = memos.template[req.template]
      or remember('template', req.template, pandoc.template.compile(req.template, req.template_name))
  local writer_options = pandoc.WriterOptions(writer)
  for _, step in ipairs(req.steps) do
    if step == 'citeproc' then
      doc = citeproc_memo.citeproc(doc, mark)
    else
      -- each filter in an environment of its own, as each runs in a fresh Lua state there
      local env = setmetatable({
        FORMAT = req.to,
        PANDOC_SCRIPT_FILE = step,
        PANDOC_READER_OPTIONS = reader_options,
        PANDOC_WRITER_OPTIONS = writer_options,
        -- the command line reads the page from stdin, which it names "-"
        PANDOC_STATE = setmetatable({ input_files = pandoc.List { '-' } },
                                    { __index = PANDOC_STATE }),
      }, { __index = _G })
      doc = pandoc.utils.run_lua_filter(doc, step, env)
    end
  end
  return pandoc.write(doc, req.to, writer_options)
end

for line in io.lines() do
  local ok, req = pcall(json.decode, line, false)
  local answer
  if not ok or type(req) ~= 'table' then
    answer = { ok = false, error = 'unreadable request: ' .. tostring(req) }
  else
    fresh_modules()
    local done, result = pcall(pandoc.system.with_working_directory, req.cwd,
                               function() return convert(req) end)
    answer = done and { id = req.id, ok = true, output = result }
                   or { id = req.id, ok = false, error = tostring(result) }
  end
  io.stdout:flush()
  io.stderr:write('\1bookbuild-done ' .. tostring(math.tointeger(answer.id) or answer.id) .. '\n')
  io.stderr:flush()
  reply:write(json.encode(answer), '\n')
  reply:flush()
end
