--[[
links.lua: a link to another source file of the book goes to what that file became.

Authors link chapters by their sources, `[the intro](intro.qmd)` or `[fits](fits.qmd#sec-fit)`,
and Quarto points such links at the rendered pages. In HTML the page sits where its source
sat, so `intro.qmd` becomes `intro.html`, anchors kept. The PDF holds the whole book, so
`fits.qmd#sec-fit` becomes the internal link `#sec-fit` (a link to a whole file is left alone).
Links with a scheme (`https:`, `mailto:`) or to other files are not touched. In a website
(metadata `bookbuild-md-pages: true`) a `.md` file is a page too: `notes.md` becomes `notes.html`.
]]

PANDOC_VERSION:must_be_at_least '3.1'

local html = FORMAT:match('html') ~= nil
local latex = FORMAT:match('latex') ~= nil or FORMAT:match('beamer') ~= nil

local suffixes = { 'qmd' }

local function read_meta(meta)
  if meta['bookbuild-md-pages'] == true then suffixes = { 'qmd', 'md' } end
end

-- (path, "#anchor" or "") for a relative link to a page's source file, else nil
local function source_link(target)
  if target:match('^%a[%w+.-]*:') or target:match('^//') then return nil end
  for _, suffix in ipairs(suffixes) do
    local path, rest = target:match('^([^?#]+%.' .. suffix .. ')([?#].*)$')
    path = path or target:match('^[^?#]+%.' .. suffix .. '$')
    if path then return path, rest or '' end
  end
  return nil
end

local function Link(link)
  local path, rest = source_link(link.target)
  if not path then return nil end
  if html then
    link.target = path:gsub('%.[^.]+$', '') .. '.html' .. rest
    return link
  end
  if latex then
    local anchor = rest:match('#(.+)$')
    if anchor then
      link.target = '#' .. anchor
      return link
    end
  end
end

return {
  { Meta = read_meta },
  { Link = Link },
}
