-- EPUB only, after every other filter. Pandoc splits the book into a file per chapter and
-- rewrites `#id` links to `chNNN.xhtml#id`, but only for ids it finds on divs, spans,
-- headings and tables: a reference to a figure in another chapter pointed nowhere. The
-- figure's id moves onto a div around it, which pandoc does find.
function Figure(fig)
  if fig.identifier == '' then return nil end
  local id = fig.identifier
  fig.identifier = ''
  return pandoc.Div({ fig }, pandoc.Attr(id))
end
