package letters

import (
	"fmt"
	"strings"

	breach "github.com/breachd/breachd"
)

// template is the fixed wording of a letter in one language: the law's required sentences
// (LAW.md §4) around the breach-specific text that comes from the determination.
type template struct {
	lang      string // BCP 47 primary language, also written to the PDF's /Lang
	title     string // the letter's heading and PDF title
	subject   string // an email's subject, before " — " and the organization
	headings  [5]string
	elements  map[breach.DataElement]string
	months    [12]string
	and       func(next string) string // the conjunction before the last item of a list
	serialSep string                   // "," before the conjunction in a list of three or more

	date          func(t *template, d breach.Date) string
	dear          func(name string) string
	dearGuardian  func(children string) string
	intro         func(org string, minor bool, children int, medium string) string
	thisLetter    string // the medium intro names: "This letter"
	thisMessage   string // "This message" (email)
	discovered    func(date string) string
	occurred      func(date string) string
	involved      func(list string) string
	call          func(phone, website string) string
	vigilant      string
	vigilantMinor string
	closing       string
	noticeLabel   string
	pageOf        func(n, of int) string
	phoneLabel    string

	// Speech (call scripts): no URL is spelled out and numbers are written digit by digit.
	callHello    func(org, who string) string
	guardianOf   func(children string) string // who a call to a parent or guardian is for
	callAbout    func(minor bool, children int) string
	callVigilant func(phone string) string // (E) without URLs; phone: the free-report number, spoken
	callGoodbye  string
	dot          string // read for "." in a web address
	extension    string // read for "ext." in a phone number

	// The substitute notice: the page for the school's web site and the press release.
	publicTitle   string                  // the web-site notice's heading
	websiteIntro  func(org string) string // why the notice is posted
	postedOn      func(date string) string
	questions     string // before the assistance number, e.g. "Questions:"
	callVerb      string // "call", before the number
	forRelease    string // "FOR IMMEDIATE RELEASE"
	pressTitle    string // the press release's PDF title, before the organization
	mediaContact  string // "Media contact:"
	pressHeadline func(org string) string
	pressLead     func(date, org string) string
}

// creditReportPhone is the number of annualcreditreport.com, given in (E).
const creditReportPhone = "1-877-322-8228"

// languages holds the templates, exactly those of breach.NoticeLanguages (a test checks). A notice
// in a language not listed here, or in one whose breach-specific text the determination lacks, is
// written in English and its Result says so (FellBack).
var languages = map[string]*template{"en": english, "es": spanish}

// templateFor returns the template for a language tag such as "es", "es-MX" or "ES", and whether
// it fell back to English. No language at all is English, not a fallback.
func templateFor(lang string) (*template, bool) {
	primary := strings.ToLower(strings.TrimSpace(lang))
	if i := strings.IndexAny(primary, "-_"); i >= 0 {
		primary = primary[:i]
	}
	if primary == "" {
		return english, false
	}
	if t, ok := languages[primary]; ok {
		return t, false
	}
	return english, true
}

// noticeTemplate returns the template a notice for the language tag lang is written in, and
// whether that is English in place of the person's language: a language is used only when it has
// a template and c has its breach-specific text, so that no notice is ever half in one language
// and half in English. (The plan refuses dispatch until such people have an English fallback.)
func noticeTemplate(lang string, c *Content) (*template, bool) {
	t, fellBack := templateFor(lang)
	if t == english {
		return t, fellBack
	}
	if _, ok := c.translation(t.lang); !ok {
		return english, true
	}
	return t, false
}

func (t *template) formatDate(d breach.Date) string { return t.date(t, d) }

// list joins items as prose: "a", "a and b", "a, b, and c".
func (t *template) list(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	case 2:
		return items[0] + " " + t.and(items[1]) + " " + items[1]
	}
	last := items[len(items)-1]
	return strings.Join(items[:len(items)-1], ", ") + t.serialSep + " " + t.and(last) + " " + last
}

var english = &template{
	lang:    "en",
	title:   "Notice of Data Breach",
	subject: "Notice of Data Breach",
	headings: [5]string{
		"What happened",
		"What information was involved",
		"What we are doing",
		"For more information",
		"What you can do",
	},
	elements: map[breach.DataElement]string{
		breach.ElementSSN:              "Social Security number",
		breach.ElementDriversLicense:   "driver's license number",
		breach.ElementStateID:          "state identification card number",
		breach.ElementFinancialAccount: "financial account number",
		breach.ElementCreditCard:       "credit card number",
		breach.ElementDebitCard:        "debit card number",
		breach.ElementSecurityCode:     "security code, access code or password for a financial account",
		breach.ElementName:             "name",
		breach.ElementDateOfBirth:      "date of birth",
		breach.ElementStudentID:        "student ID number",
		breach.ElementMedical:          "medical information",
		breach.ElementOther:            "other information held in school records",
	},
	months: [12]string{"January", "February", "March", "April", "May", "June", "July", "August",
		"September", "October", "November", "December"},
	and:       func(string) string { return "and" },
	serialSep: ",",
	date: func(t *template, d breach.Date) string {
		return fmt.Sprintf("%s %d, %d", t.months[d.Month()-1], d.Day(), d.Year())
	},
	dear:         func(name string) string { return "Dear " + name + ":" },
	dearGuardian: func(children string) string { return "Dear parent or guardian of " + children + ":" },
	intro: func(org string, minor bool, children int, medium string) string {
		whose := "your personal information"
		switch {
		case minor && children > 1:
			whose = "personal information about your children named above"
		case minor:
			whose = "personal information about your child named above"
		}
		return "We are writing to tell you about a data security incident at " + org + " that may have involved " +
			whose + ". " + medium + " explains what happened, what information was involved, what we are doing " +
			"about it, and what you can do."
	},
	thisLetter:  "This letter",
	thisMessage: "This message",
	discovered:  func(date string) string { return "We discovered the incident on " + date + "." },
	occurred:    func(date string) string { return "It took place on or about " + date + "." },
	involved: func(list string) string {
		return "The personal information that may have been accessed includes: " + list + "."
	},
	call: func(phone, website string) string {
		s := "If you have questions or need assistance, please call " + phone
		if website != "" {
			s += " or visit " + website
		}
		return s + "."
	},
	vigilant: "We encourage you to remain vigilant against fraud and identity theft by reviewing your account " +
		"statements and monitoring your credit reports for unauthorized activity. You can get a free credit report " +
		"from each of the three nationwide consumer reporting agencies at www.annualcreditreport.com or by calling " +
		creditReportPhone + ". If you believe you are a victim of identity theft, report it at IdentityTheft.gov and to " +
		"your local law enforcement agency.",
	vigilantMinor: "Children usually have no credit report. You may ask each agency to check whether one exists " +
		"in your child's name and, if it does, to place a security freeze on it.",
	closing:     "Sincerely,",
	noticeLabel: "Notice",
	pageOf:      func(n, of int) string { return fmt.Sprintf("Page %d of %d", n, of) },
	phoneLabel:  "Phone",

	callHello: func(org, who string) string {
		return "Hello. This is " + org + " calling with an important notice for " + who + "."
	},
	guardianOf: func(children string) string { return "the parent or guardian of " + children },
	callAbout: func(minor bool, children int) string {
		whose := "your personal information"
		switch {
		case minor && children > 1:
			whose = "personal information about your children"
		case minor:
			whose = "personal information about your child"
		}
		return "We are calling to tell you about a data security incident that may have involved " + whose + "."
	},
	callVigilant: func(phone string) string {
		return "Please remain vigilant against fraud and identity theft: review your account statements and " +
			"monitor your credit reports for unauthorized activity. You can get a free credit report from each of " +
			"the three nationwide consumer reporting agencies by calling " + phone + ". If you believe you are a " +
			"victim of identity theft, report it to the Federal Trade Commission and to your local law enforcement agency."
	},
	callGoodbye: "Thank you for listening. Goodbye.",
	dot:         "dot",
	extension:   "extension",

	publicTitle: "Notice of Data Breach",
	websiteIntro: func(org string) string {
		return org + " is posting this notice because a data security incident may have involved personal " +
			"information of people whose records it holds. We are telling the people affected directly where we " +
			"can; if you received a letter, email or call from us about this incident, this notice says the same."
	},
	postedOn:     func(date string) string { return "Posted on " + date },
	questions:    "Questions:",
	callVerb:     "call",
	forRelease:   "FOR IMMEDIATE RELEASE",
	pressTitle:   "Press release",
	mediaContact: "Media contact:",
	pressHeadline: func(org string) string {
		return org + " gives notice of a data security incident"
	},
	pressLead: func(date, org string) string {
		return date + " — " + org + " is giving public notice of a data security incident that may have involved " +
			"personal information of people whose records it holds. It is notifying the people affected directly " +
			"where it can; this notice is for anyone it could not reach and for the public."
	},
}

var spanish = &template{
	lang:    "es",
	title:   "Aviso de violación de seguridad de datos",
	subject: "Aviso de violación de datos",
	headings: [5]string{
		"Qué sucedió",
		"Qué información estuvo involucrada",
		"Qué estamos haciendo",
		"Para más información",
		"Qué puede hacer usted",
	},
	elements: map[breach.DataElement]string{
		breach.ElementSSN:              "número de Seguro Social",
		breach.ElementDriversLicense:   "número de licencia de conducir",
		breach.ElementStateID:          "número de tarjeta de identificación estatal",
		breach.ElementFinancialAccount: "número de cuenta financiera",
		breach.ElementCreditCard:       "número de tarjeta de crédito",
		breach.ElementDebitCard:        "número de tarjeta de débito",
		breach.ElementSecurityCode:     "código de seguridad, código de acceso o contraseña de una cuenta financiera",
		breach.ElementName:             "nombre",
		breach.ElementDateOfBirth:      "fecha de nacimiento",
		breach.ElementStudentID:        "número de identificación estudiantil",
		breach.ElementMedical:          "información médica",
		breach.ElementOther:            "otra información de los registros escolares",
	},
	months: [12]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
		"septiembre", "octubre", "noviembre", "diciembre"},
	// "y" becomes "e" before a word that begins with the sound /i/ ("nombre e información médica").
	and: func(next string) string {
		w := strings.ToLower(next)
		if (strings.HasPrefix(w, "i") || strings.HasPrefix(w, "hi")) && !strings.HasPrefix(w, "hia") &&
			!strings.HasPrefix(w, "hie") && !strings.HasPrefix(w, "hio") && !strings.HasPrefix(w, "hiu") {
			return "e"
		}
		return "y"
	},
	date: func(t *template, d breach.Date) string {
		return fmt.Sprintf("%d de %s de %d", d.Day(), t.months[d.Month()-1], d.Year())
	},
	dear: func(name string) string { return "Estimado/a " + name + ":" },
	dearGuardian: func(children string) string {
		return "Estimado padre, madre o tutor de " + children + ":"
	},
	intro: func(org string, minor bool, children int, medium string) string {
		whose := "su información personal"
		switch {
		case minor && children > 1:
			whose = "información personal de sus hijos mencionados arriba"
		case minor:
			whose = "información personal de su hijo o hija mencionado arriba"
		}
		return "Le escribimos para informarle sobre un incidente de seguridad de datos en " + org +
			" que podría haber afectado " + whose + ". " + medium + " explica lo que sucedió, qué información " +
			"estuvo involucrada, lo que estamos haciendo al respecto y lo que usted puede hacer."
	},
	thisLetter:  "Esta carta",
	thisMessage: "Este mensaje",
	discovered:  func(date string) string { return "Descubrimos el incidente el " + date + "." },
	occurred:    func(date string) string { return "Ocurrió el " + date + " o alrededor de esa fecha." },
	involved: func(list string) string {
		return "La información personal a la que se pudo haber accedido incluye: " + list + "."
	},
	call: func(phone, website string) string {
		s := "Si tiene preguntas o necesita ayuda, llame al " + phone
		if website != "" {
			s += " o visite " + website
		}
		return s + "."
	},
	vigilant: "Le recomendamos mantenerse alerta ante el fraude y el robo de identidad, revisando sus estados " +
		"de cuenta y vigilando sus informes de crédito para detectar actividad no autorizada. Puede obtener un " +
		"informe de crédito gratuito de cada una de las tres agencias nacionales de informes de crédito en " +
		"www.annualcreditreport.com o llamando al " + creditReportPhone + ". Si cree que es víctima de robo de identidad, " +
		"denúncielo en RobodeIdentidad.gov y ante la policía local.",
	vigilantMinor: "Los menores normalmente no tienen informe de crédito. Puede pedir a cada agencia que " +
		"verifique si existe uno a nombre de su hijo o hija y, si existe, que lo congele.",
	closing:     "Atentamente,",
	noticeLabel: "Aviso",
	pageOf:      func(n, of int) string { return fmt.Sprintf("Página %d de %d", n, of) },
	phoneLabel:  "Teléfono",

	callHello: func(org, who string) string {
		return "Hola. Le llama " + org + " con un aviso importante para " + who + "."
	},
	guardianOf: func(children string) string { return "el padre, la madre o el tutor de " + children },
	callAbout: func(minor bool, children int) string {
		whose := "su información personal"
		switch {
		case minor && children > 1:
			whose = "información personal de sus hijos"
		case minor:
			whose = "información personal de su hijo o hija"
		}
		return "Le llamamos para informarle sobre un incidente de seguridad de datos que podría haber afectado " +
			whose + "."
	},
	callVigilant: func(phone string) string {
		return "Le recomendamos mantenerse alerta ante el fraude y el robo de identidad: revise sus estados de " +
			"cuenta y vigile sus informes de crédito para detectar actividad no autorizada. Puede obtener un informe " +
			"de crédito gratuito de cada una de las tres agencias nacionales de informes de crédito llamando al " +
			phone + ". Si cree que es víctima de robo de identidad, denúncielo a la Comisión Federal de Comercio y " +
			"ante la policía local."
	},
	callGoodbye: "Gracias por escucharnos. Adiós.",
	dot:         "punto",
	extension:   "extensión",

	publicTitle: "Aviso de violación de datos",
	websiteIntro: func(org string) string {
		return org + " publica este aviso porque un incidente de seguridad de datos podría haber afectado " +
			"información personal de personas cuyos registros conserva. Estamos informando directamente a las " +
			"personas afectadas siempre que nos es posible; si recibió de nosotros una carta, un correo electrónico " +
			"o una llamada sobre este incidente, este aviso dice lo mismo."
	},
	postedOn:     func(date string) string { return "Publicado el " + date },
	questions:    "Preguntas:",
	callVerb:     "llame al",
	forRelease:   "PARA DIFUSIÓN INMEDIATA",
	pressTitle:   "Comunicado de prensa",
	mediaContact: "Contacto para los medios:",
	pressHeadline: func(org string) string {
		return org + " informa sobre un incidente de seguridad de datos"
	},
	pressLead: func(date, org string) string {
		return date + " — " + org + " da aviso público de un incidente de seguridad de datos que podría haber " +
			"afectado información personal de personas cuyos registros conserva. Está notificando directamente a " +
			"las personas afectadas siempre que le es posible; este aviso se dirige a quienes no haya podido " +
			"localizar y al público en general."
	},
}
