import json, os, sys
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
def case(name, csv, schema, yaml=False):
    open(f"{out}/{name}.csv", "w", newline="").write(csv)
    if yaml:
        import textwrap
        open(f"{out}/{name}.schema.yaml", "w").write(schema)
    else:
        open(f"{out}/{name}.schema.json", "w").write(json.dumps(schema, indent=2) + "\n")
F = lambda name, type="string", **kw: dict(name=name, type=type, **kw)
case("string_required_length", "id,name\n1,Ann\n2,\n3,Al\n4,Bartholomew\n5,Eve\n",
     {"fields": [F("id", "integer"), F("name", constraints={"required": True, "minLength": 3, "maxLength": 8})]})
case("string_email", "id,email\n1,ann@example.org\n2,not-an-email\n3,bob@\n4,\n5,c.d@sub.example.com\n",
     {"fields": [F("id", "integer"), F("email", format="email")]})
case("string_uri", "id,link\n1,https://example.org/a\n2,example.org\n3,mailto:ann@example.org\n4,ftp://x.org/f.txt\n",
     {"fields": [F("id", "integer"), F("link", format="uri")]})
case("string_uuid", "id,key\n1,123e4567-e89b-12d3-a456-426614174000\n2,123e4567\n3,123E4567E89B12D3A456426614174000\n4,zzze4567-e89b-12d3-a456-426614174000\n",
     {"fields": [F("id", "integer"), F("key", format="uuid")]})
case("string_pattern", "id,code\n1,AB-123\n2,ab-123\n3,AB-12\n4,XY-999\n5,AB-1234\n",
     {"fields": [F("id", "integer"), F("code", constraints={"pattern": "[A-Z]{2}-[0-9]{3}"})]})
case("string_enum", "id,status\n1,Yes\n2,No\n3,yes\n4,Maybe\n5,\n",
     {"fields": [F("id", "integer"), F("status", constraints={"enum": ["Yes", "No"]})]})
case("integer_type", "id,qty\n1,5\n2,+5\n3,007\n4,1.5\n5,abc\n6,1e3\n7, 8 \n",
     {"fields": [F("id", "integer"), F("qty", "integer")]})
case("integer_range", "id,age\n1,0\n2,-1\n3,150\n4,151\n5,42\n",
     {"fields": [F("id", "integer"), F("age", "integer", constraints={"minimum": 0, "maximum": 150})]})
case("integer_exclusive", "id,score\n1,0\n2,1\n3,9\n4,10\n5,5\n",
     {"$schema": "https://datapackage.org/profiles/2.0/tableschema.json", "fields": [F("id", "integer"), F("score", "integer", constraints={"exclusiveMinimum": 0, "exclusiveMaximum": 10})]})
case("integer_bare_number", "id,price\n1,$12\n2,15%\n3,abc\n4,7\n",
     {"fields": [F("id", "integer"), F("price", "integer", bareNumber=False)]})
case("integer_enum", "id,level\n1,1\n2,2\n3,4\n4,03\n",
     {"fields": [F("id", "integer"), F("level", "integer", constraints={"enum": [1, 2, 3]})]})
case("number_type", "id,x\n1,1.5\n2,1e3\n3,.5\n4,abc\n5,-2\n6,1.2.3\n",
     {"fields": [F("id", "integer"), F("x", "number")]})
case("number_decimal_char", 'id,amount\n1,"1,5"\n2,"1.234,56"\n3,1.5\n4,"12,"\n5,"x,1"\n',
     {"fields": [F("id", "integer"), F("amount", "number", decimalChar=",", groupChar=".")]})
case("number_range", "id,temp\n1,36.6\n2,35.9\n3,42.1\n4,42\n",
     {"fields": [F("id", "integer"), F("temp", "number", constraints={"minimum": 36, "maximum": 42})]})
case("number_bare_number", "id,amount\n1,EUR 12.50\n2,15.5%\n3,euro\n",
     {"fields": [F("id", "integer"), F("amount", "number", bareNumber=False)]})
case("boolean_default", "id,flag\n1,true\n2,False\n3,1\n4,yes\n5,0\n6,T\n",
     {"fields": [F("id", "integer"), F("flag", "boolean")]})
case("boolean_custom", "id,consent\n1,Yes\n2,No\n3,Y\n4,true\n",
     {"fields": [F("id", "integer"), F("consent", "boolean", trueValues=["Yes"], falseValues=["No"])]})
case("date_default", "id,born\n1,2020-01-31\n2,2020-02-30\n3,31/01/2020\n4,2020-1-5\n5,20200101\n",
     {"fields": [F("id", "integer"), F("born", "date")]})
case("date_pattern", "id,visit\n1,31/01/2020\n2,1/2/2020\n3,2020-01-31\n4,32/01/2020\n",
     {"fields": [F("id", "integer"), F("visit", "date", format="%d/%m/%Y")]})
case("date_range", "id,visit\n1,2020-01-01\n2,2019-12-31\n3,2021-01-01\n4,2020-06-15\n",
     {"fields": [F("id", "integer"), F("visit", "date", constraints={"minimum": "2020-01-01", "maximum": "2020-12-31"})]})
case("time_default", "id,at\n1,14:30:00\n2,14:30\n3,25:00:00\n4,09:05:07Z\n5,noon\n",
     {"fields": [F("id", "integer"), F("at", "time")]})
case("datetime_default", "id,ts\n1,2020-01-01T10:00:00Z\n2,2020-01-01 10:00:00\n3,2020-01-01\n4,2020-13-01T10:00:00\n5,2020-01-01T10:00:00+02:00\n",
     {"fields": [F("id", "integer"), F("ts", "datetime")]})
case("year", "id,y\n1,2020\n2,20\n3,year\n4,1999\n",
     {"fields": [F("id", "integer"), F("y", "year", constraints={"minimum": 2000})]})
case("yearmonth", "id,ym\n1,2020-01\n2,2020-13\n3,2020\n4,1999-12\n",
     {"fields": [F("id", "integer"), F("ym", "yearmonth")]})
case("duration", "id,d\n1,P1Y2M10DT2H30M\n2,PT5M\n3,5 minutes\n4,P\n5,P3W\n",
     {"fields": [F("id", "integer"), F("d", "duration")]})
case("geopoint_default", 'id,loc\n1,"90, 45"\n2,"200, 45"\n3,here\n4,"-71.06,42.36"\n',
     {"fields": [F("id", "integer"), F("loc", "geopoint")]})
case("geopoint_array", 'id,loc\n1,"[90, 45]"\n2,"[90]"\n3,"{""lon"": 1, ""lat"": 2}"\n',
     {"fields": [F("id", "integer"), F("loc", "geopoint", format="array")]})
case("object", 'id,meta\n1,"{""a"": 1}"\n2,"[1, 2]"\n3,not json\n4,{}\n',
     {"fields": [F("id", "integer"), F("meta", "object")]})
case("array", 'id,tags\n1,"[""a"", ""b""]"\n2,"{""a"": 1}"\n3,[]\n4,"[1, 2, 3, 4]"\n',
     {"fields": [F("id", "integer"), F("tags", "array", constraints={"minLength": 1, "maxLength": 3})]})
case("any", "id,note\n1,anything\n2,123\n3,\n",
     {"fields": [F("id", "integer"), F("note", "any", constraints={"required": True})]})
case("missing_values", "id,score\n1,5\n2,NA\n3,-\n4,\n5,n/a\n",
     {"missingValues": ["", "NA", "-"], "fields": [F("id", "integer"), F("score", "integer", constraints={"required": True})]})
case("blank_rows", "id,name\n1,Ann\n,\n2,Bob\n,\n,\n3,\n",
     {"fields": [F("id", "integer"), F("name", constraints={"required": True})]})
case("unique", "id,email\n1,a@x.org\n2,b@x.org\n3,a@x.org\n4,a@x.org\n5,\n6,\n",
     {"fields": [F("id", "integer", constraints={"unique": True}), F("email", constraints={"unique": True})]})
case("unique_cast", "id,code\n1,7\n2,07\n3,+7\n4,8\n",
     {"fields": [F("id", "integer"), F("code", "integer", constraints={"unique": True})]})
case("primary_key", "id,name\n1,a\n2,b\n2,c\n,d\n3,e\n",
     {"fields": [F("id", "integer"), F("name")], "primaryKey": ["id"]})
case("primary_key_composite", "site,visit,value\nA,1,x\nA,2,y\nB,1,z\nA,1,w\nB,,v\nB,,u\n",
     {"fields": [F("site"), F("visit", "integer"), F("value")], "primaryKey": ["site", "visit"]})
case("header_missing", "id,name\n1,Ann\n",
     {"fields": [F("id", "integer"), F("name"), F("email", format="email")]})
case("header_extra_closed", "id,name,extra\n1,Ann,x\n",
     {"fieldsMatch": "equal", "fields": [F("id", "integer"), F("name")]})
case("yaml_schema", "id,status,amount\n1,active,10\n2,gone,abc\n3,inactive,-5\n",
     "fields:\n  - name: id\n    type: integer\n  - name: status\n    constraints:\n      enum: [active, inactive]\n  - name: amount\n    type: number\n    constraints:\n      minimum: 0\n", yaml=True)
case("multiple_constraints", "id,code\n1,ABCD\n2,ab\n3,A\n",
     {"fields": [F("id", "integer"), F("code", constraints={"minLength": 3, "pattern": "[A-Z]+"})]})
# Foreign keys across two files, as a package.
open(f"{out}/fk_countries.csv", "w").write("code,name\nUS,United States\nFR,France\nDE,Germany\n")
open(f"{out}/fk_cities.csv", "w").write("city,country\nParis,FR\nBerlin,DE\nAtlantis,XX\nNowhere,\nLyon,FR\nOz,ZZ\n")
json.dump({"name": "fk", "resources": [
    {"name": "fk_countries", "path": "fk_countries.csv", "schema": {"fields": [F("code"), F("name")], "primaryKey": ["code"]}},
    {"name": "fk_cities", "path": "fk_cities.csv", "schema": {"fields": [F("city"), F("country")],
        "foreignKeys": [{"fields": ["country"], "reference": {"resource": "fk_countries", "fields": ["code"]}}]}}]},
    open(f"{out}/fk.package.json", "w"), indent=2)
# Deliberate differences (README): rssd matches header names to fields by name, ignoring case
# and surrounding whitespace; frictionless matches by position and compares exactly.
case("header_case_insensitive", "ID, Name \n1,Ann\n2,Bob\n",
     {"fields": [F("id", "integer"), F("name", constraints={"required": True})]})
# rssd reports a column the schema does not know only when the schema asks for a closed set.
case("header_extra_open", "id,name,comment\n1,Ann,hello\n",
     {"fields": [F("id", "integer"), F("name")]})
