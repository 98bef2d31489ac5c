// This file builds the document of a js job and its self-contained HTML export.

package render

import (
	_ "embed"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/empplay/empplay"
)

// newJSPage builds the document for a js job (see jsDocument): the
// prelude first in its head, and the javascript as its own script after
// the html, so that error lines are lines of the javascript. It also
// builds the job's self-contained HTML export.
func newJSPage(job *empplay.Job) (*page, error) {
	cfg := newConfig(job, modeJS)
	cfg.WaitSignal = waitsForSignal(job.HTML, job.JavaScript)
	pre, err := prelude(cfg)
	if err != nil {
		return nil, err
	}
	script := ""
	if job.JavaScript != "" {
		script = fmt.Sprintf("<script src=%q></script>\n", sketchPath)
	}
	doc := jsDocument(job.HTML, "<script>\n"+pre+"</script>\n", job.CSS, script)
	u := pagePath(cfg)
	return &page{
		path: u,
		resources: map[string]resource{
			u:          {mime: "text/html; charset=utf-8", body: []byte(doc)},
			sketchPath: {mime: "text/javascript; charset=utf-8", body: []byte(job.JavaScript)},
		},
		export:     []byte(exportJS(job, nil)),
		mode:       modeJS,
		waitSignal: cfg.WaitSignal,
	}, nil
}

// exportJS is a js job as one self-contained HTML file: the html with the
// css in a <style> and the javascript in a <script>, both inline, placed
// as on the rendered page. empplay adds nothing else: no prelude, no URL.
//
// files maps the declared asset names the page loaded to data: URLs: each
// reference to such a name in the html, css or javascript (the name, or
// "./" and the name, between quotes, parentheses, "=" or spaces) becomes
// its data: URL, so the file still shows them offline. A name the code
// builds at run time is not found this way and stays a reference.
func exportJS(job *empplay.Job, files map[string]string) string {
	html, css, code := inlineNames(job.HTML, files), inlineNames(job.CSS, files), inlineNames(job.JavaScript, files)
	script := ""
	if code != "" {
		script = "<script>\n" + escapeScript(code) + "\n</script>\n"
	}
	return jsDocument(html, "", css, script)
}

// inlineNames replaces the references to the names in files in s (see
// exportJS), longest names first.
func inlineNames(s string, files map[string]string) string {
	if len(files) == 0 || s == "" {
		return s
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int { return len(b) - len(a) })
	for _, name := range names {
		bare := strings.TrimPrefix(name, "./")
		re := regexp.MustCompile(`(["'(=\s])(?:\./)?` + regexp.QuoteMeta(bare) + `(["')\s>])`)
		s = re.ReplaceAllStringFunc(s, func(m string) string {
			return m[:1] + files[name] + m[len(m)-1:]
		})
	}
	return s
}

var (
	isDocument = regexp.MustCompile(`(?is)^(?:\s|<!--.*?-->)*<(?:!doctype|html|head|body)[\s>]`)
	doctypeTag = regexp.MustCompile(`(?i)<!doctype[^>]*>`)
	htmlOpen   = regexp.MustCompile(`(?i)<html(?:\s[^>]*)?>`)
	headOpen   = regexp.MustCompile(`(?i)<head(?:\s[^>]*)?>`)
	headClose  = regexp.MustCompile(`(?i)</head\s*>`)
	bodyOpen   = regexp.MustCompile(`(?i)<body(?:\s[^>]*)?>`)
	bodyClose  = regexp.MustCompile(`(?i)</body\s*>`)
	htmlClose  = regexp.MustCompile(`(?i)</html\s*>`)
)

// jsDocument assembles a js job's page from its html, which may be a full
// document (it starts with <!DOCTYPE, <html>, <head> or <body>) or a
// fragment. head goes first in the head (before anything of the html's),
// css in a <style> at the end of the head (so it wins over the html's own
// styles), and script after the html's content (before </body>). A
// fragment is put in a minimal document with <meta charset="utf-8">.
func jsDocument(html, head, css, script string) string {
	style := ""
	if css != "" {
		style = "<style>\n" + escapeStyle(css) + "\n</style>\n"
	}
	html = strings.TrimPrefix(html, "\ufeff")
	if !isDocument.MatchString(html) {
		var b strings.Builder
		b.WriteString("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n")
		b.WriteString(head)
		b.WriteString(style)
		b.WriteString("</head>\n<body>\n")
		b.WriteString(html)
		if html != "" && !strings.HasSuffix(html, "\n") {
			b.WriteString("\n")
		}
		b.WriteString(script)
		b.WriteString("</body>\n</html>\n")
		return b.String()
	}

	first := func(re *regexp.Regexp, end bool) int {
		loc := re.FindStringIndex(html)
		if loc == nil {
			return -1
		}
		if end {
			return loc[1]
		}
		return loc[0]
	}
	last := func(re *regexp.Regexp) int {
		all := re.FindAllStringIndex(html, -1)
		if len(all) == 0 {
			return -1
		}
		return all[len(all)-1][0]
	}
	pick := func(def int, cands ...int) int {
		for _, c := range cands {
			if c >= 0 {
				return c
			}
		}
		return def
	}
	p1 := pick(0, first(headOpen, true), first(htmlOpen, true), first(doctypeTag, true))
	p2 := pick(p1, first(headClose, false), first(bodyOpen, false))
	p3 := pick(len(html), last(bodyClose), last(htmlClose))
	p2 = max(p2, p1)
	p3 = max(p3, p2)
	return html[:p1] + head + html[p1:p2] + style + html[p2:p3] + script + html[p3:]
}

var (
	scriptClose = regexp.MustCompile(`(?i)</(script)`)
	scriptOpen  = regexp.MustCompile(`(?i)<script`)
	styleClose  = regexp.MustCompile(`(?i)</(style)`)
)

// escapeScript makes JavaScript safe to put in an inline <script>: "</script"
// becomes "<\/script" (the same string in JS strings, regular expressions
// and comments), and when the code also has "<script", "<!--" becomes
// "<\!--", so the HTML parser cannot enter its double-escaped state.
func escapeScript(js string) string {
	js = scriptClose.ReplaceAllString(js, `<\/$1`)
	if scriptOpen.MatchString(js) {
		js = strings.ReplaceAll(js, "<!--", `<\!--`)
	}
	return js
}

// escapeStyle makes CSS safe to put in a <style>: "</style" becomes
// "<\/style" (in CSS, "\/" is "/").
func escapeStyle(css string) string {
	return styleClose.ReplaceAllString(css, `<\/$1`)
}

// htmlName is the blob name of a "both" job's HTML: the job's blob name
// with its extension replaced by .html (appended when it has none), or
// ".html" appended when that is the PNG's own name.
func htmlName(blob string) string {
	base := path.Base(blob)
	name := strings.TrimSuffix(blob, path.Ext(base)) + ".html"
	if name == blob {
		name = blob + ".html"
	}
	return name
}
